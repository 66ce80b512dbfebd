package faults

import (
	"strings"
	"testing"

	acoapi "github.com/orgstack/orgstack/internal/api/automation"
	orgapi "github.com/orgstack/orgstack/internal/api/organizations"
)

func ptr[T any](v T) *T { return &v }

func TestCatalogRule(t *testing.T) {
	t.Parallel()
	c := NewCatalog(orgapi.Service, acoapi.Service)
	for _, tc := range []struct {
		name string
		spec Spec
		want Rule   // ID, Count and Remaining are checked apart
		bad  string // a part of the refusal; empty when the spec is good
	}{
		{name: "error alone", spec: Spec{Error: "TooManyRequestsException"},
			want: Rule{Error: "TooManyRequestsException", Probability: 1}},
		{name: "service and operation", spec: Spec{Service: "organizations", Operation: "DescribeOrganization", Error: "ConcurrentModificationException", Probability: ptr(0.25)},
			want: Rule{Service: "organizations", Operation: "DescribeOrganization", Error: "ConcurrentModificationException", Probability: 0.25}},
		{name: "CLI name", spec: Spec{Service: "compute-optimizer-automation", Error: "ThrottlingException"},
			want: Rule{Service: "automation", Error: "ThrottlingException", Probability: 1}},
		{name: "signing name", spec: Spec{Service: "aco-automation", Error: "InternalServerException"},
			want: Rule{Service: "automation", Error: "InternalServerException", Probability: 1}},
		{name: "target prefix", spec: Spec{Service: "AWSOrganizationsV20161128", Error: "ServiceException"},
			want: Rule{Service: "organizations", Error: "ServiceException", Probability: 1}},
		{name: "service id, any case", spec: Spec{Service: "compute OPTIMIZER automation", Error: "ThrottlingException"},
			want: Rule{Service: "automation", Error: "ThrottlingException", Probability: 1}},
		{name: "operation of either service", spec: Spec{Operation: "ListAccounts", Error: "ThrottlingException", Probability: ptr(0.0)},
			want: Rule{Operation: "ListAccounts", Error: "ThrottlingException", Probability: 0}},
		{name: "count and message", spec: Spec{Error: "ServiceException", Count: ptr(3), Message: "try later"},
			want: Rule{Error: "ServiceException", Probability: 1, Message: "try later"}},

		{name: "unknown service", spec: Spec{Service: "s3", Error: "ThrottlingException"}, bad: `service "s3" is not one orgstack serves`},
		{name: "no error", spec: Spec{Service: "organizations"}, bad: `"error" is required`},
		{name: "error of the other service", spec: Spec{Service: "organizations", Error: "ThrottlingException"}, bad: "not an error that organizations declares"},
		{name: "error no service has", spec: Spec{Error: "SlowDown"}, bad: "not an error that any service declares"},
		{name: "unknown operation", spec: Spec{Operation: "PutObject", Error: "ThrottlingException"}, bad: `no service has an operation "PutObject"`},
		{name: "operation of the other service", spec: Spec{Service: "automation", Operation: "CreateOrganization", Error: "ThrottlingException"}, bad: `service automation has no operation "CreateOrganization"`},
		{name: "error the operation does not declare", spec: Spec{Service: "organizations", Operation: "ListAccounts", Error: "ConcurrentModificationException"}, bad: "not an error that organizations ListAccounts declares; it declares AWSOrganizationsNotInUseException, AccessDeniedException, InvalidInputException, ServiceException, TooManyRequestsException"},
		{name: "error no service's operation declares", spec: Spec{Operation: "ListAccounts", Error: "ConcurrentModificationException"}, bad: "not an error that operation ListAccounts declares"},
		{name: "negative probability", spec: Spec{Error: "ServiceException", Probability: ptr(-0.1)}, bad: "probability -0.1 is not between 0 and 1"},
		{name: "probability over 1", spec: Spec{Error: "ServiceException", Probability: ptr(1.5)}, bad: "probability 1.5"},
		{name: "zero count", spec: Spec{Error: "ServiceException", Count: ptr(0)}, bad: "count 0 is not at least 1"},
		{name: "long message", spec: Spec{Error: "ServiceException", Message: strings.Repeat("x", maxMessageLen+1)}, bad: "message is longer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, err := c.Rule("f-1", tc.spec)
			if tc.bad != "" {
				if err == nil || !strings.Contains(err.Error(), tc.bad) {
					t.Fatalf("Rule(%+v) = %+v, %v; want an error containing %q", tc.spec, r, err, tc.bad)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.ID != "f-1" || r.Fired != 0 {
				t.Errorf("id %q fired %d", r.ID, r.Fired)
			}
			if tc.spec.Count == nil {
				if r.Count != nil || r.Remaining != nil {
					t.Errorf("a rule without count has count %v remaining %v", r.Count, r.Remaining)
				}
			} else if *r.Count != *tc.spec.Count || *r.Remaining != *tc.spec.Count {
				t.Errorf("count %d remaining %d, want %d", *r.Count, *r.Remaining, *tc.spec.Count)
			}
			got := *r
			got.ID, got.Count, got.Remaining = "", nil, nil
			if got != tc.want {
				t.Errorf("rule = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestRuleMatches(t *testing.T) {
	t.Parallel()
	describe := orgapi.Service.Operation("DescribeOrganization")
	listAccounts := orgapi.Service.Operation("ListAccounts")
	acoList := acoapi.Service.Operation("ListAccounts")
	for _, tc := range []struct {
		name string
		rule Rule
		want map[string]bool // "service.operation" → matches
	}{
		{"any service, declared everywhere", Rule{Error: "TooManyRequestsException"},
			map[string]bool{"organizations.DescribeOrganization": true, "organizations.ListAccounts": true, "automation.ListAccounts": false}},
		{"any service, declared by some operations", Rule{Error: "ConcurrentModificationException"},
			map[string]bool{"organizations.DescribeOrganization": true, "organizations.ListAccounts": false, "automation.ListAccounts": false}},
		{"operation name in both services", Rule{Operation: "ListAccounts", Error: "AccessDeniedException"},
			map[string]bool{"organizations.DescribeOrganization": false, "organizations.ListAccounts": true, "automation.ListAccounts": true}},
		{"one service", Rule{Service: "automation", Error: "AccessDeniedException"},
			map[string]bool{"organizations.DescribeOrganization": false, "organizations.ListAccounts": false, "automation.ListAccounts": true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := map[string]bool{
				"organizations.DescribeOrganization": tc.rule.matches(orgapi.Service, describe),
				"organizations.ListAccounts":         tc.rule.matches(orgapi.Service, listAccounts),
				"automation.ListAccounts":            tc.rule.matches(acoapi.Service, acoList),
			}
			for k, want := range tc.want {
				if got[k] != want {
					t.Errorf("%s: matches = %v, want %v", k, got[k], want)
				}
			}
		})
	}
}
