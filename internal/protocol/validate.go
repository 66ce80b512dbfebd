package protocol

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Constraint names the model constraint that an input member violates.
type Constraint int

const (
	Required Constraint = iota + 1
	MinLength
	MaxLength
	Pattern
	Enum
	MinValue
	MaxValue
	MinItems
	MaxItems
	UnionMembers // a union with other than exactly one member set
)

var constraintNames = [...]string{
	Required:     "required",
	MinLength:    "min length",
	MaxLength:    "max length",
	Pattern:      "pattern",
	Enum:         "enum",
	MinValue:     "min value",
	MaxValue:     "max value",
	MinItems:     "min items",
	MaxItems:     "max items",
	UnionMembers: "union",
}

func (c Constraint) String() string {
	if c > 0 && int(c) < len(constraintNames) {
		return constraintNames[c]
	}
	return fmt.Sprintf("Constraint(%d)", int(c))
}

// Problem is one violated constraint. Path is the member path in wire names,
// e.g. "Tags[2].Key"; Shape is the model shape of the member, which services
// use to choose a more specific error (Organizations' INVALID_ENUM_POLICY_TYPE).
type Problem struct {
	Path       string
	Shape      string
	Constraint Constraint
	Limit      string // the bound or pattern, as the model states it
}

// String describes the problem in the words AWS's validation layer uses
// ("Member must ..."), without the offending value: values may be
// sensitive (emails, policy documents) and are never echoed back.
func (p Problem) String() string {
	var rule string
	switch p.Constraint {
	case Required:
		rule = "Member must not be null"
	case MinLength:
		rule = "Member must have length greater than or equal to " + p.Limit
	case MaxLength:
		rule = "Member must have length less than or equal to " + p.Limit
	case Pattern:
		rule = "Member must satisfy regular expression pattern: " + p.Limit
	case Enum:
		rule = "Member must satisfy enum value set: " + p.Limit
	case MinValue:
		rule = "Member must have value greater than or equal to " + p.Limit
	case MaxValue:
		rule = "Member must have value less than or equal to " + p.Limit
	case MinItems:
		rule = "Member must have at least " + p.Limit + " items"
	case MaxItems:
		rule = "Member must have at most " + p.Limit + " items"
	case UnionMembers:
		rule = "Member must have exactly one member set"
	}
	return fmt.Sprintf("Value at '%s' failed to satisfy constraint: %s", p.Path, rule)
}

// ValidationError is the result of a generated Validate method: every
// problem found, in member order. Services map it to their own exception.
type ValidationError struct {
	Problems []Problem
}

func (e *ValidationError) Error() string { return e.Message() }

// Message is the text of the service error a ValidationError becomes, in
// the form AWS's validation layer uses: "2 validation errors detected: ...".
func (e *ValidationError) Message() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.String()
	}
	noun := "errors"
	if len(parts) == 1 {
		noun = "error"
	}
	return fmt.Sprintf("%d validation %s detected: %s", len(parts), noun, strings.Join(parts, "; "))
}

// Validation accumulates problems. Generated Validate methods drive it; its
// zero value is ready to use.
type Validation struct {
	problems []Problem
}

// Err returns the accumulated problems as a *ValidationError, or nil.
func (v *Validation) Err() error {
	if len(v.problems) == 0 {
		return nil
	}
	return &ValidationError{Problems: v.problems}
}

func (v *Validation) add(path, shape string, c Constraint, limit string) {
	v.problems = append(v.problems, Problem{Path: path, Shape: shape, Constraint: c, Limit: limit})
}

// Required records a missing required member.
func (v *Validation) Required(path, shape string, present bool) {
	if !present {
		v.add(path, shape, Required, "")
	}
}

// Length checks a string's length in characters (Unicode code points), as
// Smithy's length trait counts them. A negative bound is absent.
func (v *Validation) Length(path, shape, s string, min, max int) {
	n := utf8.RuneCountInString(s)
	if min >= 0 && n < min {
		v.add(path, shape, MinLength, fmt.Sprint(min))
	}
	if max >= 0 && n > max {
		v.add(path, shape, MaxLength, fmt.Sprint(max))
	}
}

// Pattern checks a string against a model pattern. Smithy patterns are not
// implicitly anchored: a match anywhere in the value satisfies them.
func (v *Validation) Pattern(path, shape, s string, re *regexp.Regexp) {
	if !re.MatchString(s) {
		v.add(path, shape, Pattern, re.String())
	}
}

// Enum checks membership in a closed set of values.
func (v *Validation) Enum(path, shape, s string, values []string) {
	if !slices.Contains(values, s) {
		v.add(path, shape, Enum, "["+strings.Join(values, ", ")+"]")
	}
}

// Min checks a number against an inclusive lower bound.
func (v *Validation) Min(path, shape string, x, min float64) {
	if x < min {
		v.add(path, shape, MinValue, strconv.FormatFloat(min, 'f', -1, 64))
	}
}

// Max checks a number against an inclusive upper bound.
func (v *Validation) Max(path, shape string, x, max float64) {
	if x > max {
		v.add(path, shape, MaxValue, strconv.FormatFloat(max, 'f', -1, 64))
	}
}

// Items checks a list's length against inclusive bounds; negative is absent.
func (v *Validation) Items(path, shape string, n, min, max int) {
	if min >= 0 && n < min {
		v.add(path, shape, MinItems, fmt.Sprint(min))
	}
	if max >= 0 && n > max {
		v.add(path, shape, MaxItems, fmt.Sprint(max))
	}
}

// Union checks that exactly one member of a union is set.
func (v *Validation) Union(path, shape string, set int) {
	if set != 1 {
		v.add(path, shape, UnionMembers, "")
	}
}
