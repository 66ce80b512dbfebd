package organizations

import (
	"fmt"
	"sort"
	"strings"

	api "github.com/orgstack/orgstack/internal/api/organizations"
	"github.com/orgstack/orgstack/internal/store"
)

// Verify reads every record and index of the domain in tx and returns
// each inconsistency between them: what a transaction that broke its
// invariants, or a write that was applied in part, would leave behind.
// A member must sit under a parent of its own organization, listed by
// every index; attachments must join live policies of enabled types to
// live targets, recorded both ways; tags, handshakes and delegations must
// belong to what still exists. Tests that race or crash a server call it;
// nothing in the request path does.
func Verify(tx store.Tx) ([]string, error) {
	v := &verifier{tx: tx}
	if err := v.load(); err != nil {
		return nil, fmt.Errorf("organizations: verify: %w", err)
	}
	v.checkTree()
	v.checkPolicies()
	v.checkTags()
	v.checkHandshakes()
	v.checkDelegations()
	sort.Strings(v.problems)
	return v.problems, nil
}

type verifier struct {
	tx       store.Tx
	problems []string

	orgs       map[string]*organization
	roots      map[string]*root
	members    map[string]*member
	ous        map[string]*ou
	policies   map[string]*policyRecord // org id + "/" + policy id
	handshakes map[string]*handshake
	delegates  map[string]*delegate // key as stored
	// Index buckets, as sets of keys.
	children, orgAccs, orgOUs, byType, policyTargets, byOrg, byAcct, delegateByAcct, trusted map[string]bool
	attachments                                                                              map[string]*attachment
	tagKeys                                                                                  []string
}

func (v *verifier) bad(format string, args ...any) {
	v.problems = append(v.problems, fmt.Sprintf(format, args...))
}

func loadAll[T any](tx store.Tx, bucket string) (map[string]*T, error) {
	out := map[string]*T{}
	err := store.ScanJSON(tx, bucket, "", "", 0, func(k string, x *T) error {
		out[k] = x
		return nil
	})
	return out, err
}

func loadKeys(tx store.Tx, bucket string) (map[string]bool, error) {
	out := map[string]bool{}
	err := tx.Scan(bucket, "", "", 0, func(k string, _ []byte) error {
		out[k] = true
		return nil
	})
	return out, err
}

func (v *verifier) load() error {
	var err error
	if v.orgs, err = loadAll[organization](v.tx, bucketOrgs); err != nil {
		return err
	}
	if v.roots, err = loadAll[root](v.tx, bucketRoots); err != nil {
		return err
	}
	if v.members, err = loadAll[member](v.tx, bucketMembers); err != nil {
		return err
	}
	if v.ous, err = loadAll[ou](v.tx, bucketOUs); err != nil {
		return err
	}
	if v.policies, err = loadAll[policyRecord](v.tx, bucketPolicies); err != nil {
		return err
	}
	if v.attachments, err = loadAll[attachment](v.tx, bucketAttachments); err != nil {
		return err
	}
	if v.handshakes, err = loadAll[handshake](v.tx, bucketHandshakes); err != nil {
		return err
	}
	if v.delegates, err = loadAll[delegate](v.tx, bucketDelegates); err != nil {
		return err
	}
	for _, idx := range []struct {
		bucket string
		keys   *map[string]bool
	}{
		{bucketChildren, &v.children}, {bucketOrgAccs, &v.orgAccs}, {bucketOrgOUs, &v.orgOUs},
		{bucketPoliciesByType, &v.byType}, {bucketPolicyTargets, &v.policyTargets},
		{bucketHandshakesByOrg, &v.byOrg}, {bucketHandshakesByAcc, &v.byAcct},
		{bucketDelegateByAcct, &v.delegateByAcct}, {bucketTrustedServices, &v.trusted},
	} {
		if *idx.keys, err = loadKeys(v.tx, idx.bucket); err != nil {
			return err
		}
	}
	return v.tx.Scan(bucketTags, "", "", 0, func(k string, _ []byte) error {
		v.tagKeys = append(v.tagKeys, k)
		return nil
	})
}

// orgOfParent returns the organization of a root or OU id, "" when it is
// neither.
func (v *verifier) orgOfParent(id string) string {
	if rt, ok := v.roots[id]; ok {
		return rt.OrgID
	}
	if u, ok := v.ous[id]; ok {
		return u.OrgID
	}
	return ""
}

// orgOfTarget returns the organization of a root, OU or member account.
func (v *verifier) orgOfTarget(id string) string {
	if m, ok := v.members[id]; ok {
		return m.OrgID
	}
	return v.orgOfParent(id)
}

func (v *verifier) checkTree() {
	for id, o := range v.orgs {
		if rt, ok := v.roots[o.RootID]; !ok || rt.OrgID != id {
			v.bad("organization %s: root %s missing or of another organization", id, o.RootID)
		}
		if m, ok := v.members[o.ManagementID]; !ok || m.OrgID != id {
			v.bad("organization %s: management account %s is not its member", id, o.ManagementID)
		}
	}
	for id, rt := range v.roots {
		if o, ok := v.orgs[rt.OrgID]; !ok || o.RootID != id {
			v.bad("root %s of organization %s, which does not have it", id, rt.OrgID)
		}
	}
	for id, m := range v.members {
		if _, ok := v.orgs[m.OrgID]; !ok {
			v.bad("member %s of missing organization %s", id, m.OrgID)
		}
		if v.orgOfParent(m.ParentID) != m.OrgID {
			v.bad("member %s of %s is under %s, no root or OU of its organization", id, m.OrgID, m.ParentID)
		}
		if !v.children[childKey(m.ParentID, childAccount, id)] {
			v.bad("member %s is not indexed under its parent %s", id, m.ParentID)
		}
		if !v.orgAccs[m.OrgID+"/"+id] {
			v.bad("member %s is not indexed under its organization %s", id, m.OrgID)
		}
	}
	for id, u := range v.ous {
		if _, ok := v.orgs[u.OrgID]; !ok {
			v.bad("OU %s of missing organization %s", id, u.OrgID)
		}
		if v.orgOfParent(u.ParentID) != u.OrgID {
			v.bad("OU %s of %s is under %s, no root or OU of its organization", id, u.OrgID, u.ParentID)
		}
		if !v.children[childKey(u.ParentID, childOU, id)] {
			v.bad("OU %s is not indexed under its parent %s", id, u.ParentID)
		}
		if !v.orgOUs[u.OrgID+"/"+id] {
			v.bad("OU %s is not indexed under its organization %s", id, u.OrgID)
		}
		p, steps := u.ParentID, 0
		for ; v.ous[p] != nil && steps <= len(v.ous); steps++ {
			p = v.ous[p].ParentID
		}
		if steps > len(v.ous) {
			v.bad("OU %s is in a cycle of parents", id)
		}
	}
	for k := range v.children {
		parent, kind, id := split3(k)
		switch {
		case kind == childAccount && (v.members[id] == nil || v.members[id].ParentID != parent):
			v.bad("%s indexes account %s, which is not a member under %s", bucketChildren, id, parent)
		case kind == childOU && (v.ous[id] == nil || v.ous[id].ParentID != parent):
			v.bad("%s indexes OU %s, which is not under %s", bucketChildren, id, parent)
		case kind != childAccount && kind != childOU:
			v.bad("%s has key %q of no child type", bucketChildren, k)
		}
	}
	for k := range v.orgAccs {
		orgID, id, _ := strings.Cut(k, "/")
		if m := v.members[id]; m == nil || m.OrgID != orgID {
			v.bad("%s lists %s under %s, which it is no member of", bucketOrgAccs, id, orgID)
		}
	}
	for k := range v.orgOUs {
		orgID, id, _ := strings.Cut(k, "/")
		if u := v.ous[id]; u == nil || u.OrgID != orgID {
			v.bad("%s lists OU %s under %s, which does not have it", bucketOrgOUs, id, orgID)
		}
	}
}

// policyType returns the type of a policy of the organization, "" when
// the organization has no such policy.
func (v *verifier) policyType(orgID, id string) string {
	if m := awsManaged(id); m != nil {
		return string(m.Type)
	}
	if p := v.policies[orgID+"/"+id]; p != nil {
		return p.Type
	}
	return ""
}

func (v *verifier) checkPolicies() {
	for k, p := range v.policies {
		if _, ok := v.orgs[p.OrgID]; !ok || k != p.OrgID+"/"+p.ID {
			v.bad("policy %s is kept as %s of organization %s", p.ID, k, p.OrgID)
		}
		if !v.byType[p.OrgID+"/"+p.Type+"/"+p.ID] {
			v.bad("policy %s is not indexed under its type %s", p.ID, p.Type)
		}
	}
	for k := range v.byType {
		orgID, typ, id := split3(k)
		if v.policyType(orgID, id) != typ {
			v.bad("%s lists %s as a %s of %s, which has no such policy", bucketPoliciesByType, id, typ, orgID)
		}
	}
	for k, a := range v.attachments {
		target, typ, id := split3(k)
		orgID := v.orgOfTarget(target)
		if orgID == "" {
			v.bad("policy %s is attached to %s, which is no root, OU or member", id, target)
			continue
		}
		if a.PolicyID != id || a.Type != typ {
			v.bad("attachment %s records policy %s of type %s", k, a.PolicyID, a.Type)
		}
		if v.policyType(orgID, id) != typ {
			v.bad("%s has policy %s attached as a %s, which %s does not have", target, id, typ, orgID)
		}
		if o := v.orgs[orgID]; o != nil && v.roots[o.RootID] != nil && !v.roots[o.RootID].typeEnabled(api.PolicyType(typ)) {
			v.bad("%s has policy %s attached while %s is disabled", target, id, typ)
		}
		if !v.policyTargets[orgID+"/"+id+"/"+target] {
			v.bad("%s has policy %s attached, but the policy does not list it", target, id)
		}
	}
	for k := range v.policyTargets {
		orgID, id, target := split3(k)
		if v.attachments[attachmentKey(target, api.PolicyType(v.policyType(orgID, id)), id)] == nil {
			v.bad("policy %s of %s lists target %s, which has no such attachment", id, orgID, target)
		}
	}
}

func (v *verifier) checkTags() {
	policyIDs := map[string]bool{}
	for _, p := range v.policies {
		policyIDs[p.ID] = true
	}
	for _, k := range v.tagKeys {
		res, _, _ := strings.Cut(k, "/")
		if v.orgOfTarget(res) == "" && !policyIDs[res] {
			v.bad("tag %q is on %s, which is no member, root, OU or policy", k, res)
		}
	}
}

func (v *verifier) checkHandshakes() {
	for id, h := range v.handshakes {
		if !v.byOrg[h.OrgID+"/"+id] {
			v.bad("handshake %s is not indexed under its organization %s", id, h.OrgID)
		}
		if h.AccountID != "" && !v.byAcct[h.AccountID+"/"+id] {
			v.bad("handshake %s is not indexed under its recipient %s", id, h.AccountID)
		}
		if _, ok := v.orgs[h.OrgID]; !ok {
			v.bad("handshake %s of missing organization %s", id, h.OrgID)
		}
	}
	for k := range v.byOrg {
		orgID, id, _ := strings.Cut(k, "/")
		if h := v.handshakes[id]; h == nil || h.OrgID != orgID {
			v.bad("%s lists handshake %s under %s, which does not have it", bucketHandshakesByOrg, id, orgID)
		}
	}
	for k := range v.byAcct {
		acct, id, _ := strings.Cut(k, "/")
		if h := v.handshakes[id]; h == nil || h.AccountID != acct {
			v.bad("%s lists handshake %s under %s, which it is not for", bucketHandshakesByAcc, id, acct)
		}
	}
}

func (v *verifier) checkDelegations() {
	for k, d := range v.delegates {
		if k != d.OrgID+"/"+d.ServicePrincipal+"/"+d.AccountID {
			v.bad("delegate record %s holds %s/%s/%s", k, d.OrgID, d.ServicePrincipal, d.AccountID)
		}
		if m := v.members[d.AccountID]; m == nil || m.OrgID != d.OrgID {
			v.bad("%s is delegated administrator for %s of %s, which it is no member of", d.AccountID, d.ServicePrincipal, d.OrgID)
		}
		if !v.delegateByAcct[d.AccountID+"/"+d.ServicePrincipal] {
			v.bad("delegation of %s to %s is not indexed under the account", d.ServicePrincipal, d.AccountID)
		}
	}
	for k := range v.delegateByAcct {
		acct, sp, _ := strings.Cut(k, "/")
		m := v.members[acct]
		if m == nil || v.delegates[m.OrgID+"/"+sp+"/"+acct] == nil {
			v.bad("%s says %s administers %s, which no delegation records", bucketDelegateByAcct, acct, sp)
		}
	}
	for k := range v.trusted {
		orgID, _, _ := strings.Cut(k, "/")
		if _, ok := v.orgs[orgID]; !ok {
			v.bad("trusted access %s of missing organization %s", k, orgID)
		}
	}
}

// split3 splits a key of three "/"-separated parts, the last of which
// may itself hold "/".
func split3(k string) (a, b, c string) {
	a, rest, _ := strings.Cut(k, "/")
	b, c, _ = strings.Cut(rest, "/")
	return a, b, c
}
