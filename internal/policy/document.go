package policy

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// DocumentError says why a policy document is malformed. Organizations
// answers it as MalformedPolicyDocumentException with this message.
type DocumentError struct{ Reason string }

func (e *DocumentError) Error() string { return "malformed policy document: " + e.Reason }

func malformed(format string, args ...any) error {
	return &DocumentError{Reason: fmt.Sprintf(format, args...)}
}

// decodeObject parses a document that must be one JSON object, keeping
// numbers exact, and refusing trailing content and duplicate keys.
func decodeObject(doc string) (map[string]any, error) {
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, malformed("the document is not valid JSON: %v", err)
	}
	if dec.More() {
		return nil, malformed("the document has content after its JSON object")
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, malformed("the document must be a JSON object")
	}
	if err := checkDuplicateKeys(doc); err != nil {
		return nil, err
	}
	return obj, nil
}

// checkDuplicateKeys refuses an object with the same key twice, which
// encoding/json would silently resolve to the last one.
func checkDuplicateKeys(doc string) error {
	dec := json.NewDecoder(strings.NewReader(doc))
	var walk func() error
	walk = func() error {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'):
			seen := map[string]bool{}
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return err
				}
				key := k.(string)
				if seen[key] {
					return malformed("the key %q appears twice in one object", key)
				}
				seen[key] = true
				if err := walk(); err != nil {
					return err
				}
			}
			_, err = dec.Token()
			return err
		case json.Delim('['):
			for dec.More() {
				if err := walk(); err != nil {
					return err
				}
			}
			_, err = dec.Token()
			return err
		}
		return nil
	}
	return walk()
}

// --- service and resource control policies --------------------------------

// IAMFlavor says which of the two IAM-style Organizations policy types a
// document is, for the elements each allows.
type IAMFlavor int

const (
	// SCP: Effect Allow or Deny; Action or NotAction; Resource or
	// NotResource; Condition; no Principal (AWS Organizations user guide,
	// "SCP syntax").
	SCP IAMFlavor = iota
	// RCP: Effect Deny (Allow only in the AWS managed RCPFullAWSAccess);
	// Principal required; Action, not NotAction; Resource or NotResource;
	// Condition; Version 2012-10-17 required ("RCP syntax").
	RCP
)

var (
	actionRE = regexp.MustCompile(`^(\*|[a-zA-Z0-9-]+:[a-zA-Z0-9*?]+)$`)
	sidRE    = regexp.MustCompile(`^[A-Za-z0-9]*$`)
	// Condition operators of the IAM policy language, with the IfExists
	// suffix and the set-operator prefixes they may carry.
	conditionOperators = []string{
		"StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase",
		"StringLike", "StringNotLike", "NumericEquals", "NumericNotEquals", "NumericLessThan",
		"NumericLessThanEquals", "NumericGreaterThan", "NumericGreaterThanEquals", "DateEquals",
		"DateNotEquals", "DateLessThan", "DateLessThanEquals", "DateGreaterThan", "DateGreaterThanEquals",
		"Bool", "BinaryEquals", "IpAddress", "NotIpAddress", "ArnEquals", "ArnLike", "ArnNotEquals",
		"ArnNotLike", "Null",
	}
)

// ValidateIAM checks an SCP or RCP document against the IAM policy grammar
// and the elements its flavor allows.
func ValidateIAM(doc string, flavor IAMFlavor) error {
	obj, err := decodeObject(doc)
	if err != nil {
		return err
	}
	for k := range obj {
		if k != "Version" && k != "Statement" && k != "Id" {
			return malformed("unknown top-level element %q", k)
		}
	}
	switch v := obj["Version"].(type) {
	case nil:
		if _, present := obj["Version"]; present || flavor == RCP {
			return malformed(`the Version element must be "2012-10-17"`)
		}
	case string:
		if v != "2012-10-17" && !(flavor == SCP && v == "2008-10-17") {
			return malformed("unsupported Version %q", v)
		}
	default:
		return malformed("the Version element must be a string")
	}
	stmts, err := statements(obj["Statement"])
	if err != nil {
		return err
	}
	sids := map[string]bool{}
	for i, st := range stmts {
		if err := validateStatement(st, flavor); err != nil {
			return malformed("statement %d: %s", i+1, err.(*DocumentError).Reason)
		}
		if sid, ok := st["Sid"].(string); ok {
			if sids[sid] {
				return malformed("the Sid %q is used by more than one statement", sid)
			}
			sids[sid] = true
		}
	}
	return nil
}

func statements(v any) ([]map[string]any, error) {
	switch v := v.(type) {
	case map[string]any:
		return []map[string]any{v}, nil
	case []any:
		if len(v) == 0 {
			return nil, malformed("the Statement element has no statements")
		}
		out := make([]map[string]any, len(v))
		for i, s := range v {
			m, ok := s.(map[string]any)
			if !ok {
				return nil, malformed("statement %d is not a JSON object", i+1)
			}
			out[i] = m
		}
		return out, nil
	case nil:
		return nil, malformed("the Statement element is required")
	}
	return nil, malformed("the Statement element must be an object or a list of objects")
}

func validateStatement(st map[string]any, flavor IAMFlavor) error {
	allowed := []string{"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition"}
	if flavor == RCP {
		allowed = []string{"Sid", "Effect", "Principal", "Action", "Resource", "NotResource", "Condition"}
	}
	for k := range st {
		if !slices.Contains(allowed, k) {
			return malformed("the element %q is not supported in this policy type", k)
		}
	}
	if sid, ok := st["Sid"]; ok {
		if s, isStr := sid.(string); !isStr || !sidRE.MatchString(s) {
			return malformed("Sid must be a string of letters and digits")
		}
	}
	switch st["Effect"] {
	case "Allow":
		if flavor == RCP {
			return malformed(`resource control policies only deny: Effect must be "Deny"`)
		}
	case "Deny":
	case nil:
		return malformed("Effect is required")
	default:
		return malformed(`Effect must be "Allow" or "Deny"`)
	}
	if flavor == RCP {
		if err := validatePrincipal(st["Principal"]); err != nil {
			return err
		}
	}
	if err := exactlyOne(st, "Action", "NotAction"); err != nil {
		return err
	}
	for _, k := range []string{"Action", "NotAction"} {
		if v, ok := st[k]; ok {
			if err := stringList(k, v, func(s string) error {
				if !actionRE.MatchString(s) {
					return malformed("%q is not an action (service:action, wildcards allowed)", s)
				}
				return nil
			}); err != nil {
				return err
			}
		}
	}
	_, hasR := st["Resource"]
	_, hasNR := st["NotResource"]
	if hasR && hasNR {
		return malformed("Resource and NotResource cannot both be present")
	}
	if flavor == RCP && !hasR && !hasNR {
		return malformed("Resource or NotResource is required")
	}
	for _, k := range []string{"Resource", "NotResource"} {
		if v, ok := st[k]; ok {
			if err := stringList(k, v, func(s string) error {
				if s != "*" && !strings.HasPrefix(s, "arn:") {
					return malformed("%q is not a resource ARN or *", s)
				}
				return nil
			}); err != nil {
				return err
			}
		}
	}
	if c, ok := st["Condition"]; ok {
		return validateCondition(c)
	}
	return nil
}

func validatePrincipal(v any) error {
	switch p := v.(type) {
	case nil:
		return malformed("Principal is required in a resource control policy")
	case string:
		if p != "*" {
			return malformed(`Principal must be "*"; narrow it with a Condition`)
		}
		return nil
	case map[string]any:
		aws, ok := p["AWS"]
		if len(p) != 1 || !ok || aws != "*" {
			return malformed(`Principal must be "*" (or {"AWS": "*"}); narrow it with a Condition`)
		}
		return nil
	}
	return malformed(`Principal must be "*"`)
}

func exactlyOne(st map[string]any, a, b string) error {
	_, hasA := st[a]
	_, hasB := st[b]
	switch {
	case hasA && hasB:
		return malformed("%s and %s cannot both be present", a, b)
	case !hasA && !hasB:
		return malformed("%s or %s is required", a, b)
	}
	return nil
}

// stringList accepts a string or a non-empty list of strings.
func stringList(name string, v any, check func(string) error) error {
	switch v := v.(type) {
	case string:
		return check(v)
	case []any:
		if len(v) == 0 {
			return malformed("%s must not be an empty list", name)
		}
		for _, x := range v {
			s, ok := x.(string)
			if !ok {
				return malformed("%s must hold strings", name)
			}
			if err := check(s); err != nil {
				return err
			}
		}
		return nil
	}
	return malformed("%s must be a string or a list of strings", name)
}

func validateCondition(v any) error {
	c, ok := v.(map[string]any)
	if !ok || len(c) == 0 {
		return malformed("Condition must be a non-empty object of operators")
	}
	for op, body := range c {
		base := strings.TrimPrefix(strings.TrimPrefix(op, "ForAllValues:"), "ForAnyValue:")
		base = strings.TrimSuffix(base, "IfExists")
		if !slices.Contains(conditionOperators, base) {
			return malformed("unknown condition operator %q", op)
		}
		keys, ok := body.(map[string]any)
		if !ok || len(keys) == 0 {
			return malformed("the condition operator %q needs an object of condition keys", op)
		}
		for key, val := range keys {
			switch val := val.(type) {
			case string, bool, json.Number:
			case []any:
				for _, x := range val {
					switch x.(type) {
					case string, bool, json.Number:
					default:
						return malformed("condition key %q has a value that is not a string, number or boolean", key)
					}
				}
			default:
				return malformed("condition key %q has a value that is not a string, number, boolean or list", key)
			}
		}
	}
	return nil
}

// --- management policies ---------------------------------------------------

// managementRoots names the top-level element of each management policy
// type whose syntax the user guide documents; a type not listed here gets
// the generic checks only.
var managementRoots = map[string]string{
	"TAG_POLICY":                "tags",
	"BACKUP_POLICY":             "plans",
	"AISERVICES_OPT_OUT_POLICY": "services",
	"CHATBOT_POLICY":            "chatbot",
	"DECLARATIVE_POLICY_EC2":    "ec2_attributes",
	"SECURITYHUB_POLICY":        "securityhub",
}

// ValidateManagement checks a management policy document: a JSON object
// whose settings use only the inheritance operators, with list values
// where an operator needs a list, and a valid child-control list.
func ValidateManagement(policyType, doc string) error {
	obj, err := decodeObject(doc)
	if err != nil {
		return err
	}
	if root, ok := managementRoots[policyType]; ok {
		for k := range obj {
			if !strings.EqualFold(k, root) {
				return malformed("a %s has one top-level element, %q; found %q", policyType, root, k)
			}
		}
		if len(obj) == 0 {
			return malformed("a %s needs its %q element", policyType, root)
		}
	}
	return validateManagementObject(obj, "")
}

func validateManagementObject(obj map[string]any, path string) error {
	for k, v := range obj {
		p := strings.TrimPrefix(path+"."+k, ".")
		if strings.HasPrefix(k, operatorsPrefix) {
			if err := validateOperator(k, v, p); err != nil {
				return err
			}
			continue
		}
		child, ok := v.(map[string]any)
		if !ok {
			return malformed("%s: a value must be set with an operator such as {\"@@assign\": ...}", p)
		}
		if err := validateManagementObject(child, p); err != nil {
			return err
		}
	}
	return nil
}

func validateOperator(op string, v any, path string) error {
	switch op {
	case opAssign:
		switch v.(type) {
		case string, bool, json.Number, []any, map[string]any:
			return nil
		}
		return malformed("%s: @@assign needs a value", path)
	case opAppend, opRemove:
		if _, ok := v.([]any); !ok {
			return malformed("%s: %s applies to lists only", path, op)
		}
		return nil
	case opChildControl:
		list, ok := v.([]any)
		if !ok || len(list) == 0 {
			return malformed("%s: %s needs a list of operators", path, op)
		}
		for _, x := range list {
			s, _ := x.(string)
			switch s {
			case opAssign, opAppend, opRemove:
			case opAll, opNone:
				if len(list) > 1 {
					return malformed("%s: %s must stand alone in %s", path, s, op)
				}
			default:
				return malformed("%s: %v is not an operator", path, x)
			}
		}
		return nil
	}
	return malformed("%s: unknown operator %s", path, op)
}

// Size is how AWS measures a policy for its size limits: in characters,
// counting the document exactly as sent (whitespace included), as the SDK
// and CLI send it.
func Size(doc string) int { return len([]rune(doc)) }
