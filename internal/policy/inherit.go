// Package policy understands the documents of AWS Organizations policies:
// the IAM-style JSON of service and resource control policies, the
// management-policy syntax of tag, backup, AI opt-out and the other
// management policy types, and how management policies attached along a
// path of the organization (root, OUs, account) combine into an account's
// effective policy.
//
// It knows nothing of storage or of the API: the Organizations domain
// hands it documents and gets back verdicts and effective policies.
package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// The inheritance operators of management policies (AWS Organizations user
// guide, "Inheritance operators").
const (
	opAssign        = "@@assign"
	opAppend        = "@@append"
	opRemove        = "@@remove"
	opChildControl  = "@@operators_allowed_for_child_policies"
	opAll           = "@@all"
	opNone          = "@@none"
	operatorsPrefix = "@@"
)

// opSet is a set of value-setting operators allowed to child policies.
type opSet uint8

const (
	allowAssign opSet = 1 << iota
	allowAppend
	allowRemove

	allowAll  = allowAssign | allowAppend | allowRemove
	allowNone = opSet(0)
)

func opBit(op string) opSet {
	switch op {
	case opAssign:
		return allowAssign
	case opAppend:
		return allowAppend
	case opRemove:
		return allowRemove
	}
	return 0
}

// Level is the policies attached directly to one node of the path from the
// root to an account, in the order they were attached.
type Level [][]byte

// Effective computes the effective management policy of an account from the
// policies attached along its path: levels[0] is the root's, then each OU's
// from the top, and last the account's own. It returns nil when no policy
// sets anything. Documents are assumed valid (see ValidateManagement).
//
// The rules are those of the user guide's "Inheritance operators" and
// "Inheritance examples":
//   - @@assign replaces an inherited value (a whole array for lists),
//     @@append adds to an inherited list, @@remove takes values out of it;
//   - a child-control list restricts which of those operators policies
//     further down may use, for that setting and everything below it; a
//     restriction can only be narrowed, never lifted, and the restrictions
//     of several policies on one node intersect;
//   - among policies attached to the same node, the one attached first
//     wins a conflicting assignment;
//   - the result carries plain values, without operators; user-chosen keys
//     are compared case-insensitively and shown in lower case; a list left
//     empty by @@remove disappears.
func Effective(levels []Level) (json.RawMessage, error) {
	root := newNode(allowAll)
	for depth, level := range levels {
		// Restrictions declared at this level bind the levels below it
		// only, so they are collected and applied after the level.
		var pending []restriction
		assigned := map[*node]bool{} // settings assigned by an earlier policy of this level
		for i, doc := range level {
			var v any
			dec := json.NewDecoder(bytes.NewReader(doc))
			dec.UseNumber()
			if err := dec.Decode(&v); err != nil {
				return nil, fmt.Errorf("policy: level %d policy %d: %w", depth, i, err)
			}
			obj, ok := v.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("policy: level %d policy %d: not a JSON object", depth, i)
			}
			root.merge(obj, assigned, &pending)
		}
		for _, r := range pending {
			r.node.allowed &= r.allowed
			r.node.restrictBelow(r.allowed)
		}
	}
	out := root.plain()
	if out == nil {
		return nil, nil
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("policy: encode effective policy: %w", err)
	}
	return b, nil
}

// restriction is a child-control list found at a node, to be applied
// once the level that declared it is merged.
type restriction struct {
	node    *node
	allowed opSet
}

// node is a key of the effective policy: either a setting with a value,
// or a container of further keys.
type node struct {
	allowed opSet // operators that policies of lower levels may use here
	isValue bool
	value   any // a scalar, or []any for a multi-valued setting

	children map[string]*node // keyed in lower case
}

func newNode(allowed opSet) *node {
	return &node{allowed: allowed, children: map[string]*node{}}
}

func (n *node) child(key string) *node {
	k := strings.ToLower(key)
	c, ok := n.children[k]
	if !ok {
		c = newNode(n.allowed)
		n.children[k] = c
	}
	return c
}

// restrictBelow narrows the allowed operators of every existing
// descendant; descendants created later inherit from their parent.
func (n *node) restrictBelow(allowed opSet) {
	for _, c := range n.children {
		c.allowed &= allowed
		c.restrictBelow(allowed)
	}
}

// merge applies one policy's object to this node.
func (n *node) merge(obj map[string]any, assigned map[*node]bool, pending *[]restriction) {
	if cc, ok := obj[opChildControl]; ok {
		*pending = append(*pending, restriction{node: n, allowed: parseChildControl(cc)})
	}
	for _, key := range sortedKeys(obj) {
		if strings.HasPrefix(key, operatorsPrefix) {
			continue // operators are handled by the caller or above
		}
		val, ok := obj[key].(map[string]any)
		if !ok {
			continue // only objects carry settings; validation rejects the rest
		}
		c := n.child(key)
		if isSetting(val) {
			c.set(val, assigned)
			if cc, ok := val[opChildControl]; ok {
				*pending = append(*pending, restriction{node: c, allowed: parseChildControl(cc)})
			}
			continue
		}
		c.merge(val, assigned, pending)
	}
}

// set applies the value-setting operators of one policy to a setting.
func (n *node) set(ops map[string]any, assigned map[*node]bool) {
	if v, ok := ops[opAssign]; ok && n.allowed&allowAssign != 0 && !assigned[n] {
		// A later policy of the same level does not override an earlier
		// one's assignment (user guide, inheritance example 6).
		n.isValue, n.value = true, clone(v)
		n.children = map[string]*node{}
		assigned[n] = true
	}
	if v, ok := ops[opAppend].([]any); ok && n.allowed&allowAppend != 0 {
		cur, _ := n.value.([]any)
		for _, x := range v {
			if !containsValue(cur, x) {
				cur = append(cur, x)
			}
		}
		n.isValue, n.value = true, cur
	}
	if v, ok := ops[opRemove].([]any); ok && n.allowed&allowRemove != 0 {
		if cur, ok := n.value.([]any); ok {
			cur = slices.DeleteFunc(slices.Clone(cur), func(x any) bool { return containsValue(v, x) })
			n.value = cur
		}
	}
}

// plain renders the node without operators; nil when it holds nothing.
func (n *node) plain() any {
	if n.isValue {
		if l, ok := n.value.([]any); ok && len(l) == 0 {
			return nil
		}
		return n.value
	}
	m := map[string]any{}
	for k, c := range n.children {
		if v := c.plain(); v != nil {
			m[k] = v
		}
	}
	if len(m) == 0 {
		return nil
	}
	return m
}

// isSetting reports whether an object is a setting (it carries a
// value-setting operator) rather than a container of settings.
func isSetting(obj map[string]any) bool {
	_, a := obj[opAssign]
	_, b := obj[opAppend]
	_, c := obj[opRemove]
	return a || b || c
}

func parseChildControl(v any) opSet {
	list, _ := v.([]any)
	var s opSet
	for _, x := range list {
		switch x {
		case opAll:
			s |= allowAll
		case opNone:
			return allowNone
		default:
			if str, ok := x.(string); ok {
				s |= opBit(str)
			}
		}
	}
	return s
}

func containsValue(list []any, x any) bool {
	for _, y := range list {
		if fmt.Sprint(y) == fmt.Sprint(x) {
			return true
		}
	}
	return false
}

func clone(v any) any {
	if l, ok := v.([]any); ok {
		return slices.Clone(l)
	}
	return v
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
