package automation

import (
	"strconv"
	"strings"

	api "github.com/orgstack/orgstack/internal/api/automation"
)

// The criteria engine decides whether a recommended action meets a rule's
// criteria. As the model's Criteria doc and the user guide put it: the
// values of one condition are alternatives, and every condition (within
// one attribute and across attributes) must hold. Negated operators hold
// when the attribute equals (or is like) none of the values, as in IAM
// condition keys. An attribute the action lacks (a tag key it does not
// carry) fails every operator except the ...IfExists forms, which hold
// (../shared/docs/FACTS.md §6).

// matchCriteria reports whether the action meets every condition.
func matchCriteria(c *api.Criteria, a *action) bool {
	if c == nil {
		return true
	}
	present := func(s string) (string, bool) { return s, true }
	strs := []struct {
		conds []api.StringCriteriaCondition
		get   func() (string, bool)
	}{
		{c.Region, func() (string, bool) { return present(a.Vol.Region) }},
		{c.ResourceArn, func() (string, bool) { return present(a.Vol.ARN()) }},
		{c.EbsVolumeType, func() (string, bool) { return present(a.Current.Type) }},
		{c.RestartNeeded, func() (string, bool) { return present(strconv.FormatBool(a.restartNeeded())) }},
	}
	for _, f := range strs {
		for _, cond := range f.conds {
			v, ok := f.get()
			if !evalString(*cond.Comparison, cond.Values, v, ok) {
				return false
			}
		}
	}
	for _, cond := range c.ResourceTag {
		v, ok := a.Vol.Tags[deref(cond.Key)]
		if !evalString(*cond.Comparison, cond.Values, v, ok) {
			return false
		}
	}
	for _, cond := range c.EbsVolumeSizeInGib {
		if !evalInts(*cond.Comparison, cond.Values, float64(a.Current.SizeGiB), true) {
			return false
		}
	}
	for _, cond := range c.LookBackPeriodInDays {
		if !evalInts(*cond.Comparison, cond.Values, float64(a.LookBack), true) {
			return false
		}
	}
	for _, cond := range c.EstimatedMonthlySavings {
		if !evalNumeric(*cond.Comparison, cond.Values, a.Savings, true) {
			return false
		}
	}
	return true
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// splitOperator parts an operator into its base form (without IfExists),
// whether it is negated and whether it is an IfExists form.
func splitOperator(op api.ComparisonOperator) (base string, negated, ifExists bool) {
	base, ifExists = strings.CutSuffix(string(op), "IfExists")
	if rest, ok := strings.CutPrefix(base, "StringNot"); ok {
		return "String" + rest, true, ifExists
	}
	if base == "NumericNotEquals" {
		return "NumericEquals", true, ifExists
	}
	return base, false, ifExists
}

// evalString applies a String* operator to an attribute value.
func evalString(op api.ComparisonOperator, values []string, attr string, present bool) bool {
	base, negated, ifExists := splitOperator(op)
	if !present {
		return ifExists
	}
	hit := false
	for _, v := range values {
		switch base {
		case "StringEquals":
			hit = attr == v
		case "StringEqualsIgnoreCase":
			hit = strings.EqualFold(attr, v)
		case "StringLike":
			hit = wildcardMatch(v, attr)
		default:
			return false // a Numeric operator on a string: checkCriteria refuses it
		}
		if hit {
			break
		}
	}
	return hit != negated
}

func evalInts(op api.ComparisonOperator, values []int32, attr float64, present bool) bool {
	fs := make([]float64, len(values))
	for i, v := range values {
		fs[i] = float64(v)
	}
	return evalNumeric(op, fs, attr, present)
}

// evalNumeric applies a Numeric* operator to an attribute value.
func evalNumeric(op api.ComparisonOperator, values []float64, attr float64, present bool) bool {
	base, negated, ifExists := splitOperator(op)
	if !present {
		return ifExists
	}
	hit := false
	for _, v := range values {
		switch base {
		case "NumericEquals":
			hit = attr == v
		case "NumericLessThan":
			hit = attr < v
		case "NumericLessThanEquals":
			hit = attr <= v
		case "NumericGreaterThan":
			hit = attr > v
		case "NumericGreaterThanEquals":
			hit = attr >= v
		default:
			return false
		}
		if hit {
			break
		}
	}
	return hit != negated
}

// wildcardMatch matches s against a pattern where * is any run of
// characters (including none and including "/", unlike path.Match, since
// ARNs contain slashes) and ? exactly one character.
func wildcardMatch(pattern, s string) bool {
	p, str := []rune(pattern), []rune(s)
	pi, si, star, mark := 0, 0, -1, 0
	for si < len(str) {
		switch {
		case pi < len(p) && p[pi] == '*':
			// Before the literal case: a * in the pattern is a wildcard
			// even where the value has a * too.
			star, mark = pi, si
			pi++
		case pi < len(p) && (p[pi] == '?' || p[pi] == str[si]):
			pi++
			si++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}
