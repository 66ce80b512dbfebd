// Package faults makes orgstack fail requests on purpose, so that users can
// test their own retry and error handling: rules, kept in the store, say
// which service, operation and modelled error, how likely and how many
// times. Rules are state like any other, so every instance sharing a
// database applies the same rules and counts a rule's firings once.
package faults

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/orgstack/orgstack/internal/protocol"
)

// Spec is a rule as the admin API takes it.
type Spec struct {
	// Service names a service in any of the spellings Catalog.Service
	// accepts; empty: every service whose model declares the error.
	Service string `json:"service,omitempty"`
	// Operation names an operation; empty: every operation that declares
	// the error.
	Operation string `json:"operation,omitempty"`
	// Error is the modelled exception to answer, e.g. "TooManyRequestsException".
	Error string `json:"error"`
	// Probability that a matching request fails; absent means 1.
	Probability *float64 `json:"probability,omitempty"`
	// Count bounds how many requests the rule fails; absent: no bound.
	Count *int `json:"count,omitempty"`
	// Message replaces the error's default message.
	Message string `json:"message,omitempty"`
}

// Rule is a stored fault rule.
type Rule struct {
	ID          string  `json:"id"`
	Service     string  `json:"service,omitempty"` // the service's Name; empty: any
	Operation   string  `json:"operation,omitempty"`
	Error       string  `json:"error"`
	Probability float64 `json:"probability"`
	Count       *int    `json:"count,omitempty"`
	// Remaining is how many more requests the rule may fail; nil when
	// the rule has no count.
	Remaining *int   `json:"remaining,omitempty"`
	Message   string `json:"message,omitempty"`
	// Fired is how many requests the rule has failed so far.
	Fired int `json:"fired"`
}

// exhausted says that the rule has failed as many requests as it may.
func (r *Rule) exhausted() bool { return r.Remaining != nil && *r.Remaining <= 0 }

// matches says whether the rule applies to op of svc: the rule names the
// service and operation or leaves them open, and the operation declares
// the error. A rule never makes an operation answer an error its model
// does not list, which no AWS SDK would decode as that error.
func (r *Rule) matches(svc *protocol.Service, op *protocol.Operation) bool {
	return (r.Service == "" || r.Service == svc.Name) &&
		(r.Operation == "" || r.Operation == op.Name) &&
		slices.Contains(op.Errors, r.Error)
}

// message is the error message of a request the rule fails.
func (r *Rule) message() string {
	if r.Message != "" {
		return r.Message
	}
	return fmt.Sprintf("orgstack fault injection: rule %s answered %s.", r.ID, r.Error)
}

// Limits of the admin API's input: enough for any test, small enough
// that a rule set stays one small record read on every request.
const (
	MaxRules      = 100
	maxMessageLen = 2048
)

// Catalog is the services whose requests rules can fail.
type Catalog struct {
	services []*protocol.Service
	byAlias  map[string]*protocol.Service
}

// NewCatalog indexes services under every name a user might know them by.
func NewCatalog(services ...*protocol.Service) *Catalog {
	c := &Catalog{services: services, byAlias: map[string]*protocol.Service{}}
	for _, s := range services {
		for _, alias := range aliases(s) {
			c.byAlias[strings.ToLower(alias)] = s
		}
	}
	return c
}

// aliases are the names of a service across AWS's tools: orgstack's short
// name ("automation"), the signing name ("aco-automation"), the target
// prefix ("ComputeOptimizerAutomationService"), the serviceId ("Compute
// Optimizer Automation") and the CLI's and model directory's form of it
// ("compute-optimizer-automation").
func aliases(s *protocol.Service) []string {
	return []string{s.Name, s.SigningName, s.TargetPrefix, s.ServiceID,
		strings.ReplaceAll(strings.ToLower(s.ServiceID), " ", "-")}
}

// Service returns the service a name denotes, case-insensitively, or nil.
func (c *Catalog) Service(name string) *protocol.Service {
	return c.byAlias[strings.ToLower(strings.TrimSpace(name))]
}

// names lists the services' short names for error messages.
func (c *Catalog) names() string {
	var out []string
	for _, s := range c.services {
		out = append(out, s.Name)
	}
	return strings.Join(out, ", ")
}

// Rule checks a spec and turns it into a rule with the given id. Every
// problem is the user's, worded for the admin API's 400 answer.
func (c *Catalog) Rule(id string, s Spec) (*Rule, error) {
	r := &Rule{ID: id, Operation: strings.TrimSpace(s.Operation), Error: strings.TrimSpace(s.Error), Probability: 1, Message: s.Message}
	var svcs []*protocol.Service
	if strings.TrimSpace(s.Service) == "" {
		svcs = c.services
	} else {
		svc := c.Service(s.Service)
		if svc == nil {
			return nil, fmt.Errorf("service %q is not one orgstack serves (%s)", s.Service, c.names())
		}
		r.Service = svc.Name
		svcs = []*protocol.Service{svc}
	}
	if r.Error == "" {
		return nil, errors.New(`"error" is required: the name of a modelled exception, e.g. TooManyRequestsException`)
	}
	if s.Probability != nil {
		p := *s.Probability
		if math.IsNaN(p) || p < 0 || p > 1 {
			return nil, fmt.Errorf("probability %v is not between 0 and 1", p)
		}
		r.Probability = p
	}
	if s.Count != nil {
		if *s.Count < 1 {
			return nil, fmt.Errorf("count %d is not at least 1", *s.Count)
		}
		n := *s.Count
		r.Count, r.Remaining = &n, new(int)
		*r.Remaining = n
	}
	if len(s.Message) > maxMessageLen {
		return nil, fmt.Errorf("message is longer than %d bytes", maxMessageLen)
	}

	if r.Operation != "" {
		var found []*protocol.Service
		for _, svc := range svcs {
			if svc.Operation(r.Operation) != nil {
				found = append(found, svc)
			}
		}
		if len(found) == 0 {
			if r.Service != "" {
				return nil, fmt.Errorf("service %s has no operation %q", r.Service, r.Operation)
			}
			return nil, fmt.Errorf("no service has an operation %q", r.Operation)
		}
		svcs = found
	}
	if !c.declared(svcs, r) {
		return nil, fmt.Errorf("%s: %s", r.Error, c.declaredHint(svcs, r))
	}
	return r, nil
}

// declared says whether some operation in the rule's scope declares its
// error; a rule that could never fire is refused rather than stored.
func (c *Catalog) declared(svcs []*protocol.Service, r *Rule) bool {
	for _, svc := range svcs {
		for _, op := range svc.Operations {
			if r.matches(svc, op) {
				return true
			}
		}
	}
	return false
}

// declaredHint words the refusal of an error outside the rule's scope,
// listing what the scope does declare.
func (c *Catalog) declaredHint(svcs []*protocol.Service, r *Rule) string {
	set := map[string]bool{}
	for _, svc := range svcs {
		for _, op := range svc.Operations {
			if r.Operation == "" || op.Name == r.Operation {
				for _, e := range op.Errors {
					set[e] = true
				}
			}
		}
	}
	errs := make([]string, 0, len(set))
	for e := range set {
		errs = append(errs, e)
	}
	sort.Strings(errs)
	scope := "any service"
	switch {
	case r.Service != "" && r.Operation != "":
		scope = r.Service + " " + r.Operation
	case r.Service != "":
		scope = r.Service
	case r.Operation != "":
		scope = "operation " + r.Operation
	}
	return fmt.Sprintf("not an error that %s declares; it declares %s", scope, strings.Join(errs, ", "))
}
