package model

import (
	"errors"
	"strings"
	"testing"

	aco "github.com/orgstack/orgstack/internal/api/automation"
	orgs "github.com/orgstack/orgstack/internal/api/organizations"
	"github.com/orgstack/orgstack/internal/protocol"
)

// These tests exercise the generated validators on real inputs of both
// services, so that a generator change that breaks them fails here.

func ptr[T any](v T) *T { return &v }

func problems(t *testing.T, v protocol.Validator) []protocol.Problem {
	t.Helper()
	err := v.Validate()
	if err == nil {
		return nil
	}
	var ve *protocol.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("Validate() = %v, want *protocol.ValidationError", err)
	}
	return ve.Problems
}

func TestGeneratedValidators(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		input protocol.Validator
		want  []string // "path constraint" of every problem, in order
	}{
		{"valid create account", &orgs.CreateAccountInput{Email: ptr("a@example.com"), AccountName: ptr("dev")}, nil},
		{"missing required members", &orgs.CreateAccountInput{}, []string{"Email required", "AccountName required"}},
		{"email too short and malformed", &orgs.CreateAccountInput{Email: ptr("a@b"), AccountName: ptr("dev")},
			[]string{"Email min length", "Email pattern"}},
		{"nested list members", &orgs.CreateAccountInput{Email: ptr("a@example.com"), AccountName: ptr("dev"),
			Tags: []orgs.Tag{{Key: ptr("ok"), Value: ptr("v")}, {Value: ptr("v")}}},
			[]string{"Tags[1].Key required"}},
		{"enum", &orgs.CreateOrganizationInput{FeatureSet: ptr(orgs.OrganizationFeatureSet("MOST"))}, []string{"FeatureSet enum"}},
		{"range", &orgs.ListAccountsInput{MaxResults: ptr(int32(21))}, []string{"MaxResults max value"}},
		{"no input members", &orgs.DescribeOrganizationInput{}, nil},
		{"automation enum and pattern", &aco.UpdateEnrollmentConfigurationInput{Status: ptr(aco.EnrollmentStatus("On"))},
			[]string{"status enum"}},
		{"automation list of enums", &aco.CreateAutomationRuleInput{
			Name: ptr("r"), RuleType: ptr(aco.RuleTypeAccountRule),
			RecommendedActionTypes: []aco.RecommendedActionType{"Nothing"},
			Schedule:               &aco.Schedule{ExecutionWindowInMinutes: ptr(int32(30))},
		}, []string{"recommendedActionTypes[0] enum", "schedule.executionWindowInMinutes min value", "status required"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got []string
			for _, p := range problems(t, tt.input) {
				got = append(got, p.Path+" "+p.Constraint.String())
			}
			if strings.Join(got, "; ") != strings.Join(tt.want, "; ") {
				t.Errorf("problems = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestGeneratedErrors(t *testing.T) {
	t.Parallel()
	e := orgs.NewError("ConstraintViolationException", "too many")
	if e == nil || e.ErrorCode() != "ConstraintViolationException" || e.ErrorMessage() != "too many" ||
		e.HTTPStatus() != 400 || e.ErrorFault() != protocol.FaultClient {
		t.Errorf("organizations ConstraintViolationException = %#v", e)
	}
	if e := orgs.NewError("ServiceException", "x"); e.HTTPStatus() != 500 || e.ErrorFault() != protocol.FaultServer {
		t.Errorf("ServiceException: status %d fault %v", e.HTTPStatus(), e.ErrorFault())
	}
	// Automation keeps the model's own status codes.
	for code, status := range map[string]int{"AccessDeniedException": 403, "ServiceQuotaExceededException": 402,
		"ResourceNotFoundException": 404, "ThrottlingException": 429, "InternalServerException": 500} {
		if e := aco.NewError(code, ""); e == nil || e.HTTPStatus() != status {
			t.Errorf("automation %s status = %v, want %d", code, e, status)
		}
	}
	if orgs.NewError("NoSuchException", "") != nil {
		t.Error("NewError made an error the model does not declare")
	}
}

func TestOperationTable(t *testing.T) {
	t.Parallel()
	if n := len(orgs.Service.Operations); n != 63 {
		t.Errorf("Organizations has %d operations, want 63", n)
	}
	if n := len(aco.Service.Operations); n != 23 {
		t.Errorf("Automation has %d operations, want 23", n)
	}
	op := aco.Service.Operation("StartAutomationEvent")
	if op == nil || op.IdempotencyToken != "clientToken" {
		t.Errorf("StartAutomationEvent idempotency token = %+v", op)
	}
	la := orgs.Service.Operation("ListAccounts")
	if la == nil || la.Paginator == nil || la.Paginator.InputToken != "NextToken" || la.Paginator.LimitKey != "MaxResults" {
		t.Errorf("ListAccounts paginator = %+v", la)
	}
	if op := orgs.Service.Operation("DeleteOrganization"); op == nil || !op.UnitInput || !op.UnitOutput {
		t.Errorf("DeleteOrganization unit input/output = %+v", op)
	}
}
