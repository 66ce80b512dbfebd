package policy

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// The Organizations resource-based delegation policy (PutResourcePolicy)
// lets the management account grant member accounts a fixed set of
// Organizations actions, scoped by resource ARN and by the condition key
// organizations:PolicyType (Organizations User Guide, "Delegated
// administrator for AWS Organizations"; FACTS §2).

// DelegatableActions are the only actions a delegation policy may grant.
var DelegatableActions = []string{
	"AttachPolicy", "CreatePolicy", "DeletePolicy", "DescribeAccount", "DescribeCreateAccountStatus",
	"DescribeEffectivePolicy", "DescribeHandshake", "DescribeOrganization", "DescribeOrganizationalUnit",
	"DescribePolicy", "DescribeResourcePolicy", "DetachPolicy", "DisablePolicyType", "EnablePolicyType",
	"ListAccounts", "ListAccountsForParent", "ListAWSServiceAccessForOrganization", "ListChildren",
	"ListCreateAccountStatus", "ListDelegatedAdministrators", "ListDelegatedServicesForAccount",
	"ListHandshakesForAccount", "ListHandshakesForOrganization", "ListOrganizationalUnitsForParent",
	"ListParents", "ListPolicies", "ListPoliciesForTarget", "ListRoots", "ListTagsForResource",
	"ListTargetsForPolicy", "TagResource", "UntagResource", "UpdatePolicy",
}

// DelegationProblem classifies why a delegation policy is refused; each
// maps to one InvalidInputException reason.
type DelegationProblem int

const (
	InvalidJSON DelegationProblem = iota
	InvalidPrincipal
	UnsupportedAction
	UnsupportedResource
	UnsupportedPolicyType
)

// DelegationError says why a delegation policy is refused.
type DelegationError struct {
	Problem DelegationProblem
	Reason  string
}

func (e *DelegationError) Error() string { return "invalid delegation policy: " + e.Reason }

func delegationErr(p DelegationProblem, format string, args ...any) error {
	return &DelegationError{Problem: p, Reason: fmt.Sprintf(format, args...)}
}

// ValidateDelegation checks a delegation policy. Resources must be "*" or
// Organizations ARNs of the organization, whose ARNs all start with
// resourcePrefix ("arn:aws:organizations::<management account>:"), or
// AWS managed policies. policyTypes are the values the condition key
// organizations:PolicyType may take.
func ValidateDelegation(doc, resourcePrefix string, policyTypes []string) error {
	obj, err := decodeObject(doc)
	if err != nil {
		return delegationErr(InvalidJSON, "%s", err.(*DocumentError).Reason)
	}
	for k := range obj {
		if k != "Version" && k != "Statement" && k != "Id" {
			return delegationErr(InvalidJSON, "unknown top-level element %q", k)
		}
	}
	if v, ok := obj["Version"]; ok && v != "2012-10-17" {
		return delegationErr(InvalidJSON, `the Version element must be "2012-10-17"`)
	}
	stmts, err := statements(obj["Statement"])
	if err != nil {
		return delegationErr(InvalidJSON, "%s", err.(*DocumentError).Reason)
	}
	for i, st := range stmts {
		if err := validateDelegationStatement(st, resourcePrefix, policyTypes); err != nil {
			de := err.(*DelegationError)
			de.Reason = fmt.Sprintf("statement %d: %s", i+1, de.Reason)
			return de
		}
	}
	return nil
}

func validateDelegationStatement(st map[string]any, resourcePrefix string, policyTypes []string) error {
	for k := range st {
		switch k {
		case "Sid", "Effect", "Principal", "Action", "Resource", "Condition":
		case "NotAction":
			// Refused since 30 June 2026 (FACTS §2).
			return delegationErr(UnsupportedAction, "NotAction is not supported; list the actions to grant")
		case "NotResource":
			return delegationErr(UnsupportedResource, "NotResource is not supported; list the resources")
		case "NotPrincipal":
			return delegationErr(InvalidPrincipal, "NotPrincipal is not supported; name the principals")
		default:
			return delegationErr(InvalidJSON, "the element %q is not supported", k)
		}
	}
	if e := st["Effect"]; e != "Allow" && e != "Deny" {
		return delegationErr(InvalidJSON, `Effect must be "Allow" or "Deny"`)
	}
	if err := validateDelegationPrincipal(st["Principal"]); err != nil {
		return err
	}
	actions, err := strings1(st["Action"])
	if err != nil || len(actions) == 0 {
		return delegationErr(InvalidJSON, "Action must be a string or a non-empty list of strings")
	}
	for _, a := range actions {
		if !delegatable(a) {
			return delegationErr(UnsupportedAction, "%q is not an Organizations action that can be delegated", a)
		}
	}
	resources, err := strings1(st["Resource"])
	if err != nil || len(resources) == 0 {
		return delegationErr(InvalidJSON, "Resource must be a string or a non-empty list of strings")
	}
	for _, r := range resources {
		if r != "*" && !strings.HasPrefix(r, resourcePrefix) && !strings.HasPrefix(r, "arn:aws:organizations::aws:policy/") {
			return delegationErr(UnsupportedResource, "%q is not a resource of this organization", r)
		}
	}
	if c, ok := st["Condition"]; ok {
		if err := validateCondition(c); err != nil {
			return delegationErr(InvalidJSON, "%s", err.(*DocumentError).Reason)
		}
		for _, body := range c.(map[string]any) {
			for key, val := range body.(map[string]any) {
				if !strings.EqualFold(key, "organizations:PolicyType") {
					continue
				}
				vals, _ := strings1(val)
				for _, v := range vals {
					if !slices.Contains(policyTypes, v) && !strings.ContainsAny(v, "*?") {
						return delegationErr(UnsupportedPolicyType, "%q is not a policy type", v)
					}
				}
			}
		}
	}
	return nil
}

// delegatable reports whether an action pattern names only delegatable
// actions: a literal must be one of them, and a pattern with wildcards
// must match at least one (it then grants only those).
func delegatable(a string) bool {
	svc, name, ok := strings.Cut(a, ":")
	if !ok || !strings.EqualFold(svc, "organizations") {
		return false
	}
	for _, d := range DelegatableActions {
		if globMatch(strings.ToLower(name), strings.ToLower(d)) {
			return true
		}
	}
	return false
}

func validateDelegationPrincipal(v any) error {
	var ids []string
	switch p := v.(type) {
	case string:
		if p != "*" {
			return delegationErr(InvalidPrincipal, `Principal must be "*" or {"AWS": ...}`)
		}
		return nil
	case map[string]any:
		aws, ok := p["AWS"]
		if len(p) != 1 || !ok {
			return delegationErr(InvalidPrincipal, `only AWS principals ({"AWS": ...}) can be granted Organizations actions`)
		}
		var err error
		if ids, err = strings1(aws); err != nil || len(ids) == 0 {
			return delegationErr(InvalidPrincipal, "the AWS principal must be a string or a list of strings")
		}
	default:
		return delegationErr(InvalidPrincipal, "Principal is required")
	}
	for _, id := range ids {
		if id == "*" || isAccountID(id) {
			continue
		}
		if acct, ok := iamARNAccount(id); ok && isAccountID(acct) {
			continue
		}
		return delegationErr(InvalidPrincipal, "%q is not an account id or an IAM principal ARN", id)
	}
	return nil
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// iamARNAccount returns the account of an arn:aws:iam::<account>:... or
// arn:aws:sts::<account>:... ARN.
func iamARNAccount(arn string) (string, bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || (parts[2] != "iam" && parts[2] != "sts") {
		return "", false
	}
	return parts[4], true
}

// strings1 reads a string or a list of strings.
func strings1(v any) ([]string, error) {
	switch v := v.(type) {
	case string:
		return []string{v}, nil
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			s, ok := x.(string)
			if !ok {
				return nil, fmt.Errorf("not a string: %v", x)
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, fmt.Errorf("not a string or list")
}

// Request is one call to evaluate against a delegation policy.
type Request struct {
	Action           string // "organizations:AttachPolicy"
	PrincipalAccount string
	PrincipalARN     string
	Resource         string // an ARN, or "*" for operations on no resource
	// Context holds the request's condition keys (organizations:PolicyType, ...).
	Context map[string]string
}

// Decision is the outcome of evaluating a request.
type Decision int

const (
	NoMatch Decision = iota // no statement applies: implicitly denied
	Allowed
	Denied // an explicit Deny applies, whatever else allows
)

// EvaluateDelegation evaluates a request against a (valid) delegation
// policy with IAM semantics: an explicit Deny wins, otherwise any
// matching Allow allows.
func EvaluateDelegation(doc string, req Request) (Decision, error) {
	var obj map[string]any
	if err := json.Unmarshal([]byte(doc), &obj); err != nil {
		return NoMatch, fmt.Errorf("policy: delegation policy: %w", err)
	}
	stmts, err := statements(obj["Statement"])
	if err != nil {
		return NoMatch, err
	}
	ctx := make(map[string]string, len(req.Context)+2)
	for k, v := range req.Context {
		ctx[strings.ToLower(k)] = v
	}
	ctx["aws:principalaccount"] = req.PrincipalAccount
	ctx["aws:principalarn"] = req.PrincipalARN
	out := NoMatch
	for _, st := range stmts {
		if !principalMatches(st["Principal"], req) || !actionMatches(st["Action"], req.Action) ||
			!resourceMatches(st["Resource"], req.Resource) || !conditionHolds(st["Condition"], ctx) {
			continue
		}
		if st["Effect"] == "Deny" {
			return Denied, nil
		}
		out = Allowed
	}
	return out, nil
}

func principalMatches(v any, req Request) bool {
	if v == "*" {
		return true
	}
	m, ok := v.(map[string]any)
	if !ok {
		return false
	}
	ids, _ := strings1(m["AWS"])
	for _, id := range ids {
		switch {
		case id == "*", id == req.PrincipalAccount, id == "arn:aws:iam::"+req.PrincipalAccount+":root":
			return true
		case id == req.PrincipalARN, id == roleOfSession(req.PrincipalARN):
			return true
		}
	}
	return false
}

// roleOfSession maps an assumed-role session ARN to its role's ARN, which
// is how a policy names it.
func roleOfSession(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[2] != "sts" || !strings.HasPrefix(parts[5], "assumed-role/") {
		return ""
	}
	role, _, _ := strings.Cut(strings.TrimPrefix(parts[5], "assumed-role/"), "/")
	return "arn:aws:iam::" + parts[4] + ":role/" + role
}

func actionMatches(v any, action string) bool {
	pats, _ := strings1(v)
	for _, p := range pats {
		if globMatch(strings.ToLower(p), strings.ToLower(action)) {
			return true
		}
	}
	return false
}

func resourceMatches(v any, resource string) bool {
	pats, _ := strings1(v)
	for _, p := range pats {
		if p == "*" || globMatch(p, resource) {
			return true
		}
	}
	return false
}

// globMatch matches IAM wildcards: * any run of characters (slashes
// included), ? any one character.
func globMatch(pattern, s string) bool {
	star := strings.Index(pattern, "*")
	if star < 0 {
		return qmatch(pattern, s)
	}
	prefix := pattern[:star]
	if len(s) < len(prefix) || !qmatch(prefix, s[:len(prefix)]) {
		return false
	}
	rest := pattern[star+1:]
	for i := len(prefix); i <= len(s); i++ {
		if globMatch(rest, s[i:]) {
			return true
		}
	}
	return false
}

// qmatch compares equal-length strings where ? matches any character.
func qmatch(pattern, s string) bool {
	pr, sr := []rune(pattern), []rune(s)
	if len(pr) != len(sr) {
		return false
	}
	for i := range pr {
		if pr[i] != '?' && pr[i] != sr[i] {
			return false
		}
	}
	return true
}

// conditionHolds evaluates a Condition block against the request context
// (keys lower-cased). A missing key fails every operator except Null,
// the ...IfExists forms and the negated operators, as in IAM.
func conditionHolds(v any, ctx map[string]string) bool {
	c, ok := v.(map[string]any)
	if !ok {
		return v == nil
	}
	for op, body := range c {
		keys, _ := body.(map[string]any)
		base := strings.TrimPrefix(strings.TrimPrefix(op, "ForAllValues:"), "ForAnyValue:")
		ifExists := strings.HasSuffix(base, "IfExists")
		base = strings.TrimSuffix(base, "IfExists")
		for key, val := range keys {
			want := conditionValues(val)
			got, present := ctx[strings.ToLower(key)]
			if base == "Null" {
				if (len(want) > 0 && want[0] == "true") == present {
					return false
				}
				continue
			}
			negated := strings.Contains(base, "Not")
			if !present {
				if ifExists || negated {
					continue
				}
				return false
			}
			if !compare(base, got, want) {
				return false
			}
		}
	}
	return true
}

func conditionValues(v any) []string {
	var out []string
	add := func(x any) {
		switch x := x.(type) {
		case string:
			out = append(out, x)
		case bool:
			out = append(out, fmt.Sprint(x))
		case float64, json.Number:
			out = append(out, fmt.Sprint(x))
		}
	}
	if list, ok := v.([]any); ok {
		for _, x := range list {
			add(x)
		}
	} else {
		add(v)
	}
	return out
}

// compare applies a condition operator: the context value must match any
// of the policy's values (for the negated operators: none of them).
func compare(op, got string, want []string) bool {
	match := func(w string) bool {
		switch op {
		case "StringEquals", "StringNotEquals", "ArnEquals", "ArnNotEquals", "Bool":
			return got == w
		case "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase":
			return strings.EqualFold(got, w)
		case "StringLike", "StringNotLike", "ArnLike", "ArnNotLike":
			return globMatch(w, got)
		}
		return false // operators on numbers, dates and addresses: no such keys here
	}
	any := slices.ContainsFunc(want, match)
	if strings.Contains(op, "Not") {
		return !any
	}
	return any
}
