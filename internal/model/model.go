// Package model reads AWS service models in botocore's JSON format and
// generates the Go API layer of orgstack from them: types, enums,
// validators, exceptions, the operation table and the Handler interface.
//
// The models are data, not code: nothing here knows a particular operation.
// What differs between services (package name, Smithy namespace, the error
// used for the service's own faults) is a small Config.
package model

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// Model is the part of a botocore service-2.json that the generator reads.
type Model struct {
	Metadata   Metadata              `json:"metadata"`
	Operations map[string]*Operation `json:"operations"`
	Shapes     map[string]*Shape     `json:"shapes"`
}

// Metadata is the model's service metadata.
type Metadata struct {
	APIVersion   string   `json:"apiVersion"`
	EndpointPref string   `json:"endpointPrefix"`
	JSONVersion  string   `json:"jsonVersion"`
	Protocol     string   `json:"protocol"`
	Protocols    []string `json:"protocols"`
	ServiceID    string   `json:"serviceId"`
	SigningName  string   `json:"signingName"`
	TargetPrefix string   `json:"targetPrefix"`
}

// SigningName is the SigV4 service name: signingName, else endpointPrefix.
func (m Metadata) Signing() string {
	if m.SigningName != "" {
		return m.SigningName
	}
	return m.EndpointPref
}

// Operation is one operation of the model.
type Operation struct {
	Name       string      `json:"name"`
	Input      *ShapeRef   `json:"input"`
	Output     *ShapeRef   `json:"output"`
	Errors     []*ShapeRef `json:"errors"`
	Idempotent bool        `json:"idempotent"`
	ReadOnly   bool        `json:"readonly"`
}

// ShapeRef points at a shape by name.
type ShapeRef struct {
	Shape            string `json:"shape"`
	IdempotencyToken bool   `json:"idempotencyToken"`
}

// Shape is a model shape. Only the traits that orgstack's two models use are
// read; Load refuses a model that uses a shape type the generator lacks.
type Shape struct {
	Type      string               `json:"type"`
	Members   map[string]*ShapeRef `json:"members"`
	Required  []string             `json:"required"`
	Member    *ShapeRef            `json:"member"`
	Enum      []string             `json:"enum"`
	Min       *float64             `json:"min"`
	Max       *float64             `json:"max"`
	Pattern   string               `json:"pattern"`
	Sensitive bool                 `json:"sensitive"`
	Exception bool                 `json:"exception"`
	Fault     bool                 `json:"fault"`
	Union     bool                 `json:"union"`
	Error     *struct {
		HTTPStatusCode int  `json:"httpStatusCode"`
		SenderFault    bool `json:"senderFault"`
	} `json:"error"`

	// memberOrder keeps the members in the order the model file lists
	// them, which encoding/json's map loses.
	memberOrder []string
}

// Paginators is botocore's paginators-1.json.
type Paginators struct {
	Pagination map[string]struct {
		InputToken  string `json:"input_token"`
		OutputToken string `json:"output_token"`
		LimitKey    string `json:"limit_key"`
		ResultKey   any    `json:"result_key"`
	} `json:"pagination"`
}

// Load reads service-2.json and, when present, paginators-1.json from dir.
func Load(dir string) (*Model, *Paginators, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "service-2.json"))
	if err != nil {
		return nil, nil, fmt.Errorf("model: %w", err)
	}
	var m Model
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, nil, fmt.Errorf("model: parse %s: %w", dir, err)
	}
	if err := recordMemberOrder(raw, &m); err != nil {
		return nil, nil, fmt.Errorf("model: member order in %s: %w", dir, err)
	}
	if err := m.check(); err != nil {
		return nil, nil, fmt.Errorf("model: %s: %w", dir, err)
	}
	var p Paginators
	if raw, err := os.ReadFile(filepath.Join(dir, "paginators-1.json")); err == nil {
		if err := json.Unmarshal(raw, &p); err != nil {
			return nil, nil, fmt.Errorf("model: parse paginators in %s: %w", dir, err)
		}
	} else if !os.IsNotExist(err) {
		return nil, nil, fmt.Errorf("model: %w", err)
	}
	return &m, &p, nil
}

// check refuses what the generator cannot express, so that a new model
// feature fails loudly at generation time instead of generating wrong code.
func (m *Model) check() error {
	for name, s := range m.Shapes {
		switch s.Type {
		case "structure", "list", "string", "boolean", "integer", "long", "double", "timestamp":
		default:
			return fmt.Errorf("shape %s has type %q, which the generator does not support", name, s.Type)
		}
		for mname, ref := range s.Members {
			if m.Shapes[ref.Shape] == nil {
				return fmt.Errorf("member %s.%s refers to unknown shape %s", name, mname, ref.Shape)
			}
		}
		if s.Type == "list" && (s.Member == nil || m.Shapes[s.Member.Shape] == nil) {
			return fmt.Errorf("list %s has no known member shape", name)
		}
		if s.Type == "list" && m.Shapes[s.Member.Shape].Type == "list" {
			return fmt.Errorf("list %s of lists is not supported", name)
		}
	}
	for name, op := range m.Operations {
		for _, ref := range append([]*ShapeRef{op.Input, op.Output}, op.Errors...) {
			if ref != nil && m.Shapes[ref.Shape] == nil {
				return fmt.Errorf("operation %s refers to unknown shape %s", name, ref.Shape)
			}
		}
	}
	return nil
}

// recordMemberOrder re-reads the shapes with a token decoder to learn the
// order of each structure's members.
func recordMemberOrder(raw []byte, m *Model) error {
	var doc struct {
		Shapes map[string]json.RawMessage `json:"shapes"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return err
	}
	for name, rawShape := range doc.Shapes {
		var s struct {
			Members orderedKeys `json:"members"`
		}
		if err := json.Unmarshal(rawShape, &s); err != nil {
			return fmt.Errorf("shape %s: %w", name, err)
		}
		m.Shapes[name].memberOrder = s.Members
	}
	return nil
}

// orderedKeys decodes a JSON object into the list of its keys, in order.
type orderedKeys []string

func (k *orderedKeys) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytesReader(b))
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("members is not an object")
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		*k = append(*k, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return err
		}
	}
	return nil
}

// MemberNames returns the members of a structure in model order.
func (s *Shape) MemberNames() []string {
	if len(s.memberOrder) == len(s.Members) {
		return s.memberOrder
	}
	names := make([]string, 0, len(s.Members))
	for n := range s.Members {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// IsRequired says whether the structure lists member as required.
func (s *Shape) IsRequired(member string) bool {
	for _, r := range s.Required {
		if r == member {
			return true
		}
	}
	return false
}

// OperationNames returns the operation names sorted, the order in which
// every generated table lists them.
func (m *Model) OperationNames() []string {
	names := make([]string, 0, len(m.Operations))
	for n := range m.Operations {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
