package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// An effective policy can be invalid even though every policy that makes
// it up was valid on its own: inheritance may leave a backup plan without
// rules, append a second value to a setting that takes one, or assign a
// tag key whose spelling is not the policy's key. AWS reports such
// accounts through ListAccountsWithInvalidEffectivePolicy and the details
// through ListEffectivePolicyValidationErrors; these are the checks
// orgstack makes, for the types whose effective syntax the user guide
// documents (tag, backup, AI services opt-out, EC2 declarative). Other types have no
// checks and their effective policies are always valid.

// Finding is one validation error of an effective policy.
type Finding struct {
	Code    string // ELEMENTS_TOO_MANY, MISSING_REQUIRED_ELEMENT, ...
	Message string
	// Path is where in the effective policy the error is, dot-separated.
	Path string
	// Contributors are the policies that set the element in error.
	Contributors []string
	// blame is the path whose setters contributed to the error.
	blame []string
}

// Source is one policy that makes up an effective policy.
type Source struct {
	ID  string
	Doc []byte
}

// CheckEffective validates an effective policy of the type and names,
// for each finding, the policies among sources that contributed to it:
// those that set the element in error (or, for a missing element, the
// element that should hold it).
func CheckEffective(policyType string, effective []byte, sources []Source) ([]Finding, error) {
	var doc map[string]any
	dec := json.NewDecoder(bytes.NewReader(effective))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("policy: effective policy: %w", err)
	}
	var fs []Finding
	switch policyType {
	case "TAG_POLICY":
		fs = checkTags(doc)
	case "BACKUP_POLICY":
		fs = checkBackup(doc)
	case "AISERVICES_OPT_OUT_POLICY":
		fs = checkOptOut(doc)
	case "DECLARATIVE_POLICY_EC2":
		fs = checkDeclarative(doc)
	}
	for i, f := range fs {
		for _, s := range sources {
			var v any
			if json.Unmarshal(s.Doc, &v) != nil {
				continue
			}
			if hasPath(v, f.blame) && !slices.Contains(fs[i].Contributors, s.ID) {
				fs[i].Contributors = append(fs[i].Contributors, s.ID)
			}
		}
	}
	return fs, nil
}

func finding(code string, blame []string, format string, args ...any) Finding {
	return Finding{Code: code, Message: fmt.Sprintf(format, args...), Path: strings.Join(blame, "."), blame: blame}
}

// hasPath reports whether a policy document has the key path, comparing
// keys as inheritance does (case-insensitively).
func hasPath(v any, path []string) bool {
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return false
		}
		found := false
		for mk, mv := range m {
			if strings.EqualFold(mk, k) {
				v, found = mv, true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func isStringList(v any) bool {
	l, ok := v.([]any)
	if !ok {
		return false
	}
	for _, x := range l {
		if _, ok := x.(string); !ok {
			return false
		}
	}
	return true
}

// checkTags: each tag entry's tag_key is one string spelling the entry's
// key (only its capitalization may differ); tag_value and enforced_for
// are lists of strings.
func checkTags(doc map[string]any) []Finding {
	tags, _ := doc["tags"].(map[string]any)
	var fs []Finding
	for _, k := range sortedKeys(tags) {
		entry, ok := tags[k].(map[string]any)
		if !ok {
			fs = append(fs, finding("INVALID_VALUE_TYPE", []string{"tags", k}, "the tag entry %q must be an object", k))
			continue
		}
		if tk, ok := entry["tag_key"]; ok {
			p := []string{"tags", k, "tag_key"}
			switch s := tk.(type) {
			case string:
				if !strings.EqualFold(s, k) {
					fs = append(fs, finding("TAG_KEY_MISMATCH", p, "tag_key %q does not spell the policy key %q", s, k))
				}
			case []any:
				fs = append(fs, finding("ELEMENTS_TOO_MANY", p, "tag_key takes one value, not %d", len(s)))
			default:
				fs = append(fs, finding("INVALID_VALUE_TYPE", p, "tag_key must be a string"))
			}
		}
		for _, list := range []string{"tag_value", "enforced_for"} {
			if v, ok := entry[list]; ok && !isStringList(v) {
				fs = append(fs, finding("INVALID_VALUE_TYPE", []string{"tags", k, list}, "%s must be a list of strings", list))
			}
		}
	}
	return fs
}

// checkBackup: every plan needs regions, at least one rule, each rule a
// target vault, and a selection of resources to back up.
func checkBackup(doc map[string]any) []Finding {
	plans, _ := doc["plans"].(map[string]any)
	var fs []Finding
	for _, name := range sortedKeys(plans) {
		plan, ok := plans[name].(map[string]any)
		base := []string{"plans", name}
		if !ok {
			fs = append(fs, finding("INVALID_VALUE_TYPE", base, "the backup plan %q must be an object", name))
			continue
		}
		if r, ok := plan["regions"].([]any); !ok || len(r) == 0 {
			fs = append(fs, finding("MISSING_REQUIRED_ELEMENT", base, "the backup plan %q has no regions", name))
		}
		rules, _ := plan["rules"].(map[string]any)
		if len(rules) == 0 {
			fs = append(fs, finding("MISSING_REQUIRED_ELEMENT", base, "the backup plan %q has no rules", name))
		}
		for _, rn := range sortedKeys(rules) {
			rule, _ := rules[rn].(map[string]any)
			if _, ok := rule["target_backup_vault_name"].(string); !ok {
				fs = append(fs, finding("MISSING_REQUIRED_ELEMENT", []string{"plans", name, "rules", rn},
					"the rule %q of the backup plan %q names no target_backup_vault_name", rn, name))
			}
		}
		if sel, _ := plan["selections"].(map[string]any); len(sel) == 0 {
			fs = append(fs, finding("MISSING_REQUIRED_ELEMENT", base, "the backup plan %q selects no resources", name))
		}
	}
	return fs
}

// checkOptOut: each service's opt_out_policy is one of optIn and optOut.
func checkOptOut(doc map[string]any) []Finding {
	services, _ := doc["services"].(map[string]any)
	var fs []Finding
	for _, svc := range sortedKeys(services) {
		entry, _ := services[svc].(map[string]any)
		v, ok := entry["opt_out_policy"]
		if !ok {
			continue
		}
		p := []string{"services", svc, "opt_out_policy"}
		switch v := v.(type) {
		case string:
			if v != "optIn" && v != "optOut" {
				fs = append(fs, finding("INVALID_VALUE", p, "opt_out_policy must be optIn or optOut, not %q", v))
			}
		case []any:
			fs = append(fs, finding("ELEMENTS_TOO_MANY", p, "opt_out_policy takes one value, not %d", len(v)))
		default:
			fs = append(fs, finding("INVALID_VALUE_TYPE", p, "opt_out_policy must be a string"))
		}
	}
	return fs
}

// declarativeSetting is one EC2 attribute setting of a declarative policy
// and the values the user guide's "Declarative policy syntax" lists for
// it; required settings must be present once their attribute is.
type declarativeSetting struct {
	path     []string
	values   []string
	required bool
}

var declarativeSettings = []declarativeSetting{
	{[]string{"vpc_block_public_access", "internet_gateway", "mode"}, []string{"off", "block_ingress", "block_bidirectional"}, true},
	{[]string{"vpc_block_public_access", "internet_gateway", "exclusions_allowed"}, []string{"enabled", "disabled"}, true},
	{[]string{"serial_console_access", "status"}, []string{"enabled", "disabled"}, true},
	{[]string{"image_block_public_access", "state"}, []string{"unblocked", "block_new_sharing"}, true},
	{[]string{"snapshot_block_public_access", "state"}, []string{"unblocked", "block_new_sharing", "block_all_sharing"}, true},
	{[]string{"allowed_images_settings", "state"}, []string{"enabled", "disabled", "audit_mode"}, true},
	{[]string{"instance_metadata_defaults", "http_tokens"}, []string{"no_preference", "required", "optional"}, false},
	{[]string{"instance_metadata_defaults", "http_endpoint"}, []string{"no_preference", "enabled", "disabled"}, false},
	{[]string{"instance_metadata_defaults", "instance_metadata_tags"}, []string{"no_preference", "enabled", "disabled"}, false},
	{[]string{"instance_metadata_defaults", "http_put_response_hop_limit"}, nil, false}, // -1 (no preference) or 1-64
}

// checkDeclarative: each EC2 attribute setting holds one of its values,
// and an attribute that is present has its required settings.
func checkDeclarative(doc map[string]any) []Finding {
	attrs, _ := doc["ec2_attributes"].(map[string]any)
	var fs []Finding
	for _, d := range declarativeSettings {
		parent, ok := lookup(attrs, d.path[:len(d.path)-1])
		if !ok {
			continue
		}
		p := append([]string{"ec2_attributes"}, d.path...)
		v, ok := parent[d.path[len(d.path)-1]]
		if !ok {
			if d.required {
				fs = append(fs, finding("MISSING_REQUIRED_ELEMENT", p[:len(p)-1], "%s needs %s", strings.Join(p[:len(p)-1], "."), d.path[len(d.path)-1]))
			}
			continue
		}
		if l, ok := v.([]any); ok {
			fs = append(fs, finding("ELEMENTS_TOO_MANY", p, "%s takes one value, not %d", d.path[len(d.path)-1], len(l)))
			continue
		}
		if d.values == nil { // the hop limit
			num, isNum := v.(json.Number)
			n, err := num.Int64()
			if !isNum || err != nil || (n != -1 && (n < 1 || n > 64)) {
				fs = append(fs, finding("INVALID_VALUE", p, "http_put_response_hop_limit must be -1 or from 1 to 64, not %v", v))
			}
			continue
		}
		if sv, ok := v.(string); !ok || !slices.Contains(d.values, sv) {
			fs = append(fs, finding("INVALID_VALUE", p, "%s must be one of %s, not %v", d.path[len(d.path)-1], strings.Join(d.values, ", "), v))
		}
	}
	return fs
}

// lookup follows a path of object keys.
func lookup(m map[string]any, path []string) (map[string]any, bool) {
	for _, k := range path {
		next, ok := m[k].(map[string]any)
		if !ok {
			return nil, false
		}
		m = next
	}
	return m, m != nil
}
