package automation

import (
	"fmt"
	"math"
	"math/big"
	"regexp"
	"strings"

	api "github.com/orgstack/orgstack/internal/api/automation"
)

// The model's patterns are not anchored, so the generated validator lets
// through any value with one allowed character; AWS documents the whole
// value, and so the domain checks it whole.
var (
	ruleNameRE        = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,128}$`) // the doc says 1-128; the shape's min is 0
	ruleDescriptionRE = regexp.MustCompile(`^[a-zA-Z0-9_\-\s@.]*$`)
	criteriaValueRE   = regexp.MustCompile(`^[\w\s.\-:/=+@*?]{1,512}$`)
	tagKeyRE          = regexp.MustCompile(`^[\w\s.\-:/=+@]{1,128}$`)
	tagValueRE        = regexp.MustCompile(`^[\w\s.\-:/=+@]{0,256}$`)
	filterValueRE     = regexp.MustCompile(`^[a-zA-Z0-9\-_.*?\s]{1,255}$`)
	priorityRE        = regexp.MustCompile(`^0\.[0-9]{1,30}$`)
)

func invalid(format string, args ...any) error {
	return api.NewInvalidParameterValueException(fmt.Sprintf(format, args...))
}

func checkName(name string) error {
	if !ruleNameRE.MatchString(name) {
		return invalid("The rule name must be 1 to 128 letters, digits, underscores or hyphens.")
	}
	return nil
}

func checkDescription(d *string) error {
	if d != nil && !ruleDescriptionRE.MatchString(*d) {
		return invalid("The description may hold only letters, digits, spaces, underscores, hyphens, @ and periods.")
	}
	return nil
}

// checkPriority accepts a decimal strictly between 0 and 1 with at most 30
// digits after the point (model doc of CreateAutomationRuleRequest.priority).
func checkPriority(p string) error {
	if !priorityRE.MatchString(p) || strings.Trim(p[2:], "0") == "" {
		return invalid("The priority %q must be a decimal number greater than 0 and less than 1, with at most 30 digits after the decimal point (for example 0.5).", p)
	}
	return nil
}

// comparePriority compares two valid priorities exactly: no floating point
// can tell 0.100000000000000000000000000001 from 0.1.
func comparePriority(a, b string) int {
	x, _ := new(big.Rat).SetString(a)
	y, _ := new(big.Rat).SetString(b)
	return x.Cmp(y)
}

// priorityAbove returns a priority that ranks before every one given
// (lower is higher priority): half the lowest, or 0.5 for the first rule.
// The user guide puts a new rule at the top of the order; false when no
// value with 30 digits is left above the lowest.
func priorityAbove(existing []string) (string, bool) {
	if len(existing) == 0 {
		return "0.5", true
	}
	low := existing[0]
	for _, p := range existing[1:] {
		if comparePriority(p, low) < 0 {
			low = p
		}
	}
	half, _ := new(big.Rat).SetString(low)
	half.Quo(half, big.NewRat(2, 1))
	// Truncate to 30 digits, never rounding up onto low itself.
	scale := new(big.Int).Exp(big.NewInt(10), big.NewInt(30), nil)
	n := new(big.Int).Quo(new(big.Int).Mul(half.Num(), scale), half.Denom())
	if n.Sign() == 0 {
		return "", false
	}
	digits := n.String()
	digits = strings.Repeat("0", 30-len(digits)) + digits
	return "0." + strings.TrimRight(digits, "0"), true
}

func checkActionTypes(types []api.RecommendedActionType) error {
	if len(types) == 0 {
		return invalid("recommendedActionTypes must name at least one recommended action type.")
	}
	seen := map[api.RecommendedActionType]bool{}
	for _, t := range types {
		if seen[t] {
			return invalid("recommendedActionTypes names %s twice.", t)
		}
		seen[t] = true
	}
	return nil
}

// Limits of a rule's criteria (model doc of Criteria).
const (
	maxConditions      = 20 // per criterion
	maxConditionValues = 20 // per condition
)

// Volume types a volume-type condition can compare with (EBS volume types).
var ebsVolumeTypes = []string{"gp2", "gp3", "io1", "io2", "st1", "sc1", "standard"}

// checkCriteria validates each criterion: string attributes take only
// String* operators, numeric ones only Numeric* operators, every condition
// names an operator and 1-20 values, and values suit their attribute.
func checkCriteria(c *api.Criteria) error {
	if c == nil {
		return nil
	}
	strs := []struct {
		name   string
		conds  []api.StringCriteriaCondition
		values []string // allowed values for exact comparisons, nil for any
	}{
		{"region", c.Region, nil},
		{"resourceArn", c.ResourceArn, nil},
		{"ebsVolumeType", c.EbsVolumeType, ebsVolumeTypes},
		{"restartNeeded", c.RestartNeeded, []string{"true", "false"}},
	}
	for _, f := range strs {
		if len(f.conds) > maxConditions {
			return invalid("criteria.%s has %d conditions; at most %d are allowed.", f.name, len(f.conds), maxConditions)
		}
		for i, cond := range f.conds {
			path := fmt.Sprintf("criteria.%s[%d]", f.name, i)
			if err := checkStringCondition(path, cond.Comparison, cond.Values, f.values); err != nil {
				return err
			}
		}
	}
	if len(c.ResourceTag) > maxConditions {
		return invalid("criteria.resourceTag has %d conditions; at most %d are allowed.", len(c.ResourceTag), maxConditions)
	}
	for i, cond := range c.ResourceTag {
		path := fmt.Sprintf("criteria.resourceTag[%d]", i)
		if cond.Key == nil || !criteriaValueRE.MatchString(*cond.Key) {
			return invalid("%s.key is required: a tag key of 1 to 512 characters.", path)
		}
		if err := checkStringCondition(path, cond.Comparison, cond.Values, nil); err != nil {
			return err
		}
	}
	ints := []struct {
		name string
		min  int32
		cond []api.IntegerCriteriaCondition
	}{
		{"ebsVolumeSizeInGib", 1, c.EbsVolumeSizeInGib},
		{"lookBackPeriodInDays", 1, c.LookBackPeriodInDays},
	}
	for _, f := range ints {
		if len(f.cond) > maxConditions {
			return invalid("criteria.%s has %d conditions; at most %d are allowed.", f.name, len(f.cond), maxConditions)
		}
		for i, cond := range f.cond {
			path := fmt.Sprintf("criteria.%s[%d]", f.name, i)
			if err := checkOperator(path, cond.Comparison, "Numeric", len(cond.Values)); err != nil {
				return err
			}
			for _, v := range cond.Values {
				if v < f.min {
					return invalid("%s: %d is not a valid value; values start at %d.", path, v, f.min)
				}
			}
		}
	}
	if len(c.EstimatedMonthlySavings) > maxConditions {
		return invalid("criteria.estimatedMonthlySavings has %d conditions; at most %d are allowed.", len(c.EstimatedMonthlySavings), maxConditions)
	}
	for i, cond := range c.EstimatedMonthlySavings {
		path := fmt.Sprintf("criteria.estimatedMonthlySavings[%d]", i)
		if err := checkOperator(path, cond.Comparison, "Numeric", len(cond.Values)); err != nil {
			return err
		}
		for _, v := range cond.Values {
			if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
				return invalid("%s: savings values are non-negative amounts; got %v.", path, v)
			}
		}
	}
	return nil
}

// checkOperator checks that a condition has an operator of the family its
// attribute takes ("String" or "Numeric") and 1-20 values.
func checkOperator(path string, op *api.ComparisonOperator, family string, nvalues int) error {
	if op == nil {
		return invalid("%s.comparison is required.", path)
	}
	if !strings.HasPrefix(string(*op), family) {
		return invalid("%s: the operator %s does not apply to this attribute; use a %s operator.", path, *op, family)
	}
	if nvalues == 0 || nvalues > maxConditionValues {
		return invalid("%s must have 1 to %d values; it has %d.", path, maxConditionValues, nvalues)
	}
	return nil
}

func checkStringCondition(path string, op *api.ComparisonOperator, values, allowed []string) error {
	if err := checkOperator(path, op, "String", len(values)); err != nil {
		return err
	}
	like := strings.Contains(string(*op), "Like")
	ignoreCase := strings.Contains(string(*op), "IgnoreCase")
	for _, v := range values {
		if !criteriaValueRE.MatchString(v) {
			return invalid("%s: %q is not a valid value (1 to 512 letters, digits, spaces and . - : / = + @ * ?).", path, v)
		}
		// Exact comparisons with an attribute of known values must name
		// one; Like patterns are free.
		if allowed != nil && !like && !knownValue(allowed, v, ignoreCase) {
			return invalid("%s: %q is not one of %s.", path, v, strings.Join(allowed, ", "))
		}
	}
	return nil
}

func knownValue(allowed []string, v string, ignoreCase bool) bool {
	for _, a := range allowed {
		if a == v || (ignoreCase && strings.EqualFold(a, v)) {
			return true
		}
	}
	return false
}

// maxTagsPerRule is the tag limit of a rule (model shape TagList).
const maxTagsPerRule = 200

// checkTags validates tags to add: keys and values whole, no key twice,
// none in the aws: namespace AWS reserves.
func checkTags(tags []api.Tag) error {
	seen := map[string]bool{}
	for _, t := range tags {
		k, v := *t.Key, *t.Value
		if !tagKeyRE.MatchString(k) {
			return invalid("The tag key %q must be 1 to 128 letters, digits, spaces or _ . : / = + - @.", k)
		}
		if strings.HasPrefix(strings.ToLower(k), "aws:") {
			return invalid("The tag key %q uses the aws: prefix, which is reserved for AWS.", k)
		}
		if !tagValueRE.MatchString(v) {
			return invalid("The value of tag %q must be at most 256 letters, digits, spaces or _ . : / = + - @.", k)
		}
		if seen[k] {
			return invalid("The tag key %q appears more than once.", k)
		}
		seen[k] = true
	}
	return nil
}
