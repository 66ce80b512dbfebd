package protocol

import (
	"errors"
	"regexp"
	"testing"
)

func TestValidationCollectsEveryProblem(t *testing.T) {
	t.Parallel()
	var v Validation
	v.Required("AccountId", "AccountId", false)
	v.Length("Name", "AccountName", "héllo", 1, 4) // 5 characters, 6 bytes
	v.Length("Name", "AccountName", "héll", 1, 4)  // 4 characters: fine
	v.Pattern("Id", "AccountId", "x123456789012y", regexp.MustCompile(`[0-9]{12}`))
	v.Pattern("Id", "AccountId", "12345", regexp.MustCompile(`^\d{12}$`))
	v.Enum("FeatureSet", "OrganizationFeatureSet", "SOME", []string{"ALL", "CONSOLIDATED_BILLING"})
	v.Min("MaxResults", "MaxResults", 0, 1)
	v.Max("MaxResults", "MaxResults", 21, 20)
	v.Items("Tags", "Tags", 3, -1, 2)
	v.Union("resourceDetails", "ResourceDetails", 0)
	err := v.Err()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("Err() = %v, want *ValidationError", err)
	}
	want := []Constraint{Required, MaxLength, Pattern, Enum, MinValue, MaxValue, MaxItems, UnionMembers}
	if len(ve.Problems) != len(want) {
		t.Fatalf("got %d problems %v, want %d", len(ve.Problems), ve.Problems, len(want))
	}
	for i, c := range want {
		if ve.Problems[i].Constraint != c {
			t.Errorf("problem %d = %v, want %v", i, ve.Problems[i].Constraint, c)
		}
	}
	if got := ve.Problems[0].String(); got != "Value at 'AccountId' failed to satisfy constraint: Member must not be null" {
		t.Errorf("message = %q", got)
	}
}

func TestValidationEmpty(t *testing.T) {
	t.Parallel()
	var v Validation
	v.Required("A", "A", true)
	v.Min("B", "B", 1, 1)
	if err := v.Err(); err != nil {
		t.Fatalf("Err() = %v, want nil", err)
	}
}

func TestValidationMessageCount(t *testing.T) {
	t.Parallel()
	one := &ValidationError{Problems: []Problem{{Path: "A", Constraint: Required}}}
	if got, want := one.Message(), "1 validation error detected: Value at 'A' failed to satisfy constraint: Member must not be null"; got != want {
		t.Errorf("Message() = %q, want %q", got, want)
	}
	two := &ValidationError{Problems: []Problem{{Path: "A", Constraint: Required}, {Path: "B", Constraint: MaxLength, Limit: "3"}}}
	if got := two.Message(); got[:29] != "2 validation errors detected:" {
		t.Errorf("Message() = %q", got)
	}
}
