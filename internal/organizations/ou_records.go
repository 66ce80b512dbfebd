package organizations

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/orgstack/orgstack/internal/store"
)

// OUs are kept by id and indexed by organization, for an organization's
// teardown, and by parent and name, so that the check that a name is free
// under a parent is one read however many siblings it has. Each
// organization's number of OUs is kept too, for the OU quota. Their place
// in the tree is the shared children index (bucketChildren).
const (
	bucketOUs     = "org.ous"      // OU id -> ou
	bucketOrgOUs  = "org.org-ous"  // org id + "/" + OU id -> ""
	bucketOUNames = "org.ou-names" // parent id + "/" + name -> OU id
	bucketCounts  = "org.counts"   // org id + "/ous" -> how many OUs, in decimal
)

func ouNameKey(parentID, name string) string { return parentID + "/" + name }

func ouCountKey(orgID string) string { return orgID + "/ous" }

// ou is an organizational unit.
type ou struct {
	ID       string `json:"id"`
	OrgID    string `json:"orgId"`
	ParentID string `json:"parentId"` // the root or another OU
	Name     string `json:"name"`
}

func (o *organization) ouARN(ouID string) string {
	return "arn:aws:organizations::" + o.ManagementID + ":ou/" + o.ID + "/" + ouID
}

func (r repo) ou(id string) (*ou, error) {
	return store.GetJSON[ou](r.tx, bucketOUs, id)
}

// orgOU returns the OU when it exists in the organization, nil otherwise.
func (r repo) orgOU(orgID, id string) (*ou, error) {
	u, err := r.ou(id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil || u.OrgID != orgID {
		return nil, err
	}
	return u, nil
}

// createOU stores a new OU and places it under its parent.
func (r repo) createOU(u *ou) error {
	if err := store.CreateJSON(r.tx, bucketOUs, u.ID, u); err != nil {
		return err
	}
	if err := r.tx.Put(bucketOrgOUs, u.OrgID+"/"+u.ID, nil); err != nil {
		return err
	}
	if err := r.tx.Put(bucketOUNames, ouNameKey(u.ParentID, u.Name), []byte(u.ID)); err != nil {
		return err
	}
	if err := r.addOUCount(u.OrgID, 1); err != nil {
		return err
	}
	return r.tx.Put(bucketChildren, childKey(u.ParentID, childOU, u.ID), nil)
}

// renameOU stores an OU under its new name; OUs never change parent.
func (r repo) renameOU(u *ou, oldName string) error {
	if err := r.tx.Delete(bucketOUNames, ouNameKey(u.ParentID, oldName)); err != nil {
		return err
	}
	if err := r.tx.Put(bucketOUNames, ouNameKey(u.ParentID, u.Name), []byte(u.ID)); err != nil {
		return err
	}
	return store.PutJSON(r.tx, bucketOUs, u.ID, u)
}

// addOUCount changes the organization's number of OUs by delta.
func (r repo) addOUCount(orgID string, delta int) error {
	n, err := r.ouCount(orgID)
	if err != nil {
		return err
	}
	return r.tx.Put(bucketCounts, ouCountKey(orgID), []byte(strconv.Itoa(n+delta)))
}

// deleteOU removes an OU, its indexes, its tags and its policy attachments.
func (r repo) deleteOU(u *ou) error {
	if err := r.detachAll(u.OrgID, u.ID); err != nil {
		return err
	}
	if err := r.tx.Delete(bucketOUs, u.ID); err != nil {
		return err
	}
	if err := r.tx.Delete(bucketOrgOUs, u.OrgID+"/"+u.ID); err != nil {
		return err
	}
	if err := r.tx.Delete(bucketOUNames, ouNameKey(u.ParentID, u.Name)); err != nil {
		return err
	}
	if err := r.addOUCount(u.OrgID, -1); err != nil {
		return err
	}
	if err := r.tx.Delete(bucketChildren, childKey(u.ParentID, childOU, u.ID)); err != nil {
		return err
	}
	return r.deleteTags(u.ID)
}

// ouCount says how many OUs the organization has.
func (r repo) ouCount(orgID string) (int, error) {
	v, err := r.tx.Get(bucketCounts, ouCountKey(orgID))
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(string(v))
	if err != nil {
		return 0, fmt.Errorf("organizations: OU count of %s: %w", orgID, err)
	}
	return n, nil
}

// ouWithName returns the id of the OU with that name under the parent, or
// "" if there is none.
func (r repo) ouWithName(parentID, name string) (string, error) {
	v, err := r.tx.Get(bucketOUNames, ouNameKey(parentID, name))
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	return string(v), err
}

// orgOUIDs returns the ids of every OU of the organization.
func (r repo) orgOUIDs(orgID string) ([]string, error) {
	var out []string
	err := r.tx.Scan(bucketOrgOUs, orgID+"/", "", 0, func(key string, _ []byte) error {
		out = append(out, strings.TrimPrefix(key, orgID+"/"))
		return nil
	})
	return out, err
}

// parentExists reports whether parentID is the root or an OU of the
// organization: the parents that accounts and OUs can have.
func (r repo) parentExists(orgID, parentID string) (bool, error) {
	switch {
	case strings.HasPrefix(parentID, "r-"):
		rt, err := r.root(parentID)
		if errors.Is(err, store.ErrNotFound) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		return rt.OrgID == orgID, nil
	case strings.HasPrefix(parentID, "ou-"):
		u, err := r.orgOU(orgID, parentID)
		return u != nil, err
	}
	return false, nil
}

// hasChildren reports whether anything (account or OU) sits under the parent.
func (r repo) hasChildren(parentID string) (bool, error) {
	n, err := r.tx.Count(bucketChildren, parentID+"/")
	return n > 0, err
}
