package organizations

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	api "github.com/orgstack/orgstack/internal/api/organizations"
	"github.com/orgstack/orgstack/internal/store"
)

// Policies are kept per organization and indexed by type, and attachments
// are kept twice, so that every question the API asks is one range scan:
// a type's policies, a target's policies of a type, a policy's targets.
// AWS managed policies have no record: they are the same everywhere, and
// their index entries are written when their type is first enabled.
const (
	bucketPolicies       = "org.policies"         // org id + "/" + policy id -> policyRecord
	bucketPoliciesByType = "org.policies-by-type" // org id + "/" + type + "/" + policy id -> ""
	// bucketAttachments: target id + "/" + type + "/" + policy id -> attachment
	bucketAttachments = "org.attachments"
	// bucketPolicyTargets: org id + "/" + policy id + "/" + target id -> ""
	bucketPolicyTargets = "org.policy-targets"
	// bucketAttachSeq holds each organization's attachment counter, which
	// orders attachments on one target (first attached wins in effective
	// policies).
	bucketAttachSeq = "org.attach-seq"
	// bucketDetached remembers when a policy of a type was last detached
	// from a target: target id + "/" + type -> time. A detachment changes
	// the effective policies below the target as much as an attachment.
	bucketDetached = "org.detached"
)

// policyRecord is a customer managed policy.
type policyRecord struct {
	ID          string    `json:"id"`
	OrgID       string    `json:"orgId"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Type        string    `json:"type"`
	Content     string    `json:"content"`
	UpdatedAt   time.Time `json:"updatedAt"`
}

// attachment is one policy attached directly to one target.
type attachment struct {
	PolicyID   string    `json:"policyId"`
	Type       string    `json:"type"`
	Seq        int64     `json:"seq"`
	AttachedAt time.Time `json:"attachedAt"`
}

// policyView is a policy as the operations see it, customer or AWS managed.
type policyView struct {
	ID, Name, Description, Content string
	Type                           api.PolicyType
	AwsManaged                     bool
	Detachable                     bool
	ARN                            string
	UpdatedAt                      time.Time
}

func (o *organization) policyARN(t api.PolicyType, id string) string {
	return "arn:aws:organizations::" + o.ManagementID + ":policy/" + o.ID + "/" + strings.ToLower(string(t)) + "/" + id
}

func viewOf(org *organization, p *policyRecord) *policyView {
	t := api.PolicyType(p.Type)
	return &policyView{
		ID: p.ID, Name: p.Name, Description: p.Description, Content: p.Content, Type: t,
		Detachable: true, ARN: org.policyARN(t, p.ID), UpdatedAt: p.UpdatedAt,
	}
}

func managedView(m *awsManagedPolicy) *policyView {
	return &policyView{
		ID: m.ID, Name: m.Name, Description: m.Description, Content: m.Content, Type: m.Type,
		AwsManaged: true, Detachable: m.Detachable, ARN: m.arn(),
	}
}

// policy returns the policy with the id as the organization sees it, or
// PolicyNotFoundException. The model's PolicyId pattern is not anchored;
// an id of another shape is refused as AWS refuses it.
func (r repo) policy(org *organization, id string) (*policyView, error) {
	if !rePolicyID.MatchString(id) {
		e := api.NewInvalidInputException(fmt.Sprintf("%q is not a policy id (p- followed by 8 to 128 letters, digits or underscores).", id))
		e.Reason = ptr(api.InvalidInputExceptionReasonInvalidSyntaxPolicyId)
		return nil, e
	}
	if m := awsManaged(id); m != nil {
		return managedView(m), nil
	}
	p, err := store.GetJSON[policyRecord](r.tx, bucketPolicies, org.ID+"/"+id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, api.NewPolicyNotFoundException(fmt.Sprintf("No policy %s exists in your organization.", id))
	}
	if err != nil {
		return nil, fmt.Errorf("policy %s: %w", id, err)
	}
	return viewOf(org, p), nil
}

func (r repo) putPolicy(p *policyRecord) error {
	if err := store.PutJSON(r.tx, bucketPolicies, p.OrgID+"/"+p.ID, p); err != nil {
		return err
	}
	return r.tx.Put(bucketPoliciesByType, p.OrgID+"/"+p.Type+"/"+p.ID, nil)
}

// deletePolicy removes a customer policy, its index entry and its tags.
func (r repo) deletePolicy(p *policyView, orgID string) error {
	if err := r.tx.Delete(bucketPolicies, orgID+"/"+p.ID); err != nil {
		return err
	}
	if err := r.tx.Delete(bucketPoliciesByType, orgID+"/"+string(p.Type)+"/"+p.ID); err != nil {
		return err
	}
	return r.deleteTags(p.ID)
}

// listManagedPolicy makes an AWS managed policy appear in its type's
// listing of the organization.
func (r repo) listManagedPolicy(orgID string, m *awsManagedPolicy) error {
	return r.tx.Put(bucketPoliciesByType, orgID+"/"+string(m.Type)+"/"+m.ID, nil)
}

// policyCount counts the organization's customer policies of a type; AWS
// managed policies do not count toward the quota.
func (r repo) policyCount(orgID string, t api.PolicyType) (int, error) {
	n, err := r.tx.Count(bucketPoliciesByType, orgID+"/"+string(t)+"/")
	if err != nil {
		return 0, err
	}
	if m := policyKinds[t].managed; m != nil {
		if _, err := r.tx.Get(bucketPoliciesByType, orgID+"/"+string(t)+"/"+m.ID); err == nil {
			n--
		} else if !errors.Is(err, store.ErrNotFound) {
			return 0, err
		}
	}
	return n, nil
}

// policyNameTaken reports whether another policy of the type has the name.
func (r repo) policyNameTaken(org *organization, t api.PolicyType, name, exceptID string) (bool, error) {
	if m := policyKinds[t].managed; m != nil && m.Name == name {
		return true, nil
	}
	taken := false
	err := store.ScanJSON(r.tx, bucketPolicies, org.ID+"/", "", 0, func(_ string, p *policyRecord) error {
		if p.Type == string(t) && p.Name == name && p.ID != exceptID {
			taken = true
			return store.ErrStop
		}
		return nil
	})
	return taken, err
}

// nextSeq returns the organization's next attachment sequence number.
func (r repo) nextSeq(orgID string) (int64, error) {
	n, err := store.GetJSON[int64](r.tx, bucketAttachSeq, orgID)
	var v int64
	switch {
	case err == nil:
		v = *n
	case !errors.Is(err, store.ErrNotFound):
		return 0, err
	}
	v++
	return v, store.PutJSON(r.tx, bucketAttachSeq, orgID, v)
}

func attachmentKey(targetID string, t api.PolicyType, policyID string) string {
	return targetID + "/" + string(t) + "/" + policyID
}

// attached reports whether the policy is attached directly to the target.
func (r repo) attached(targetID string, t api.PolicyType, policyID string) (bool, error) {
	_, err := r.tx.Get(bucketAttachments, attachmentKey(targetID, t, policyID))
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// attach attaches a policy to a target; attaching it again changes nothing.
func (r repo) attach(orgID, policyID string, t api.PolicyType, targetID string, now time.Time) error {
	if ok, err := r.attached(targetID, t, policyID); err != nil || ok {
		return err
	}
	if m := awsManaged(policyID); m != nil {
		if err := r.listManagedPolicy(orgID, m); err != nil {
			return err
		}
	}
	seq, err := r.nextSeq(orgID)
	if err != nil {
		return err
	}
	a := attachment{PolicyID: policyID, Type: string(t), Seq: seq, AttachedAt: now}
	if err := store.PutJSON(r.tx, bucketAttachments, attachmentKey(targetID, t, policyID), a); err != nil {
		return err
	}
	return r.tx.Put(bucketPolicyTargets, orgID+"/"+policyID+"/"+targetID, nil)
}

// detach removes one attachment.
func (r repo) detach(orgID, policyID string, t api.PolicyType, targetID string) error {
	if err := r.tx.Delete(bucketAttachments, attachmentKey(targetID, t, policyID)); err != nil {
		return err
	}
	return r.tx.Delete(bucketPolicyTargets, orgID+"/"+policyID+"/"+targetID)
}

// markDetached records that a policy of the type left the target at now.
func (r repo) markDetached(targetID string, t api.PolicyType, now time.Time) error {
	return store.PutJSON(r.tx, bucketDetached, targetID+"/"+string(t), now)
}

// lastDetached returns when a policy of the type last left the target,
// zero if never.
func (r repo) lastDetached(targetID string, t api.PolicyType) (time.Time, error) {
	at, err := store.GetJSON[time.Time](r.tx, bucketDetached, targetID+"/"+string(t))
	if errors.Is(err, store.ErrNotFound) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, err
	}
	return *at, nil
}

// attachments returns the policies of a type attached directly to a
// target, in the order they were attached.
func (r repo) attachments(targetID string, t api.PolicyType) ([]attachment, error) {
	var out []attachment
	err := store.ScanJSON(r.tx, bucketAttachments, targetID+"/"+string(t)+"/", "", 0, func(_ string, a *attachment) error {
		out = append(out, *a)
		return nil
	})
	slices.SortFunc(out, func(a, b attachment) int { return int(a.Seq - b.Seq) })
	return out, err
}

// attachmentCount counts the policies of a type attached to a target.
func (r repo) attachmentCount(targetID string, t api.PolicyType) (int, error) {
	return r.tx.Count(bucketAttachments, targetID+"/"+string(t)+"/")
}

// detachType detaches every policy of a type from a target.
func (r repo) detachType(orgID, targetID string, t api.PolicyType) error {
	as, err := r.attachments(targetID, t)
	if err != nil {
		return err
	}
	for _, a := range as {
		if err := r.detach(orgID, a.PolicyID, t, targetID); err != nil {
			return err
		}
	}
	return nil
}

// detachAll removes every policy attachment of a target, whatever the
// type: an account leaving its organization keeps none of its policies.
func (r repo) detachAll(orgID, targetID string) error {
	var keys []string
	var as []attachment
	err := store.ScanJSON(r.tx, bucketAttachments, targetID+"/", "", 0, func(key string, a *attachment) error {
		keys = append(keys, key)
		as = append(as, *a)
		return nil
	})
	if err != nil {
		return err
	}
	for i := range keys {
		if err := r.detach(orgID, as[i].PolicyID, api.PolicyType(as[i].Type), targetID); err != nil {
			return err
		}
	}
	// The target is going away; so does its history.
	_, err = r.tx.DeletePrefix(bucketDetached, targetID+"/")
	return err
}

// policyInUse reports whether the policy is attached anywhere.
func (r repo) policyInUse(orgID, policyID string) (bool, error) {
	n, err := r.tx.Count(bucketPolicyTargets, orgID+"/"+policyID+"/")
	return n > 0, err
}

// deleteOrgPolicies removes everything of an organization's policies, as
// deleting the organization does: every attachment (the root's, the
// OUs' and the management account's), every customer policy and its
// tags, the listing of AWS managed policies and the resource policy.
func (r repo) deleteOrgPolicies(org *organization) error {
	type link struct{ policyID, targetID string }
	var links []link
	prefix := org.ID + "/"
	err := r.tx.Scan(bucketPolicyTargets, prefix, "", 0, func(key string, _ []byte) error {
		pid, tid, _ := strings.Cut(strings.TrimPrefix(key, prefix), "/")
		links = append(links, link{pid, tid})
		return nil
	})
	if err != nil {
		return err
	}
	for _, l := range links {
		pv, err := r.policy(org, l.policyID)
		if err != nil {
			return err
		}
		if err := r.detach(org.ID, pv.ID, pv.Type, l.targetID); err != nil {
			return err
		}
	}
	var ids []string
	err = store.ScanJSON(r.tx, bucketPolicies, prefix, "", 0, func(_ string, p *policyRecord) error {
		ids = append(ids, p.ID)
		return nil
	})
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := r.deleteTags(id); err != nil {
			return err
		}
	}
	for _, b := range []string{bucketPolicies, bucketPoliciesByType} {
		if _, err := r.tx.DeletePrefix(b, prefix); err != nil {
			return err
		}
	}
	if err := r.tx.Delete(bucketAttachSeq, org.ID); err != nil {
		return err
	}
	if _, err := r.tx.DeletePrefix(bucketDetached, org.RootID+"/"); err != nil {
		return err
	}
	rp, err := r.resourcePolicy(org.ID)
	if err != nil || rp == nil {
		return err
	}
	if err := r.deleteTags(rp.ID); err != nil {
		return err
	}
	return r.tx.Delete(bucketResourcePolicies, org.ID)
}
