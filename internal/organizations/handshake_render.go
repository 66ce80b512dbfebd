package organizations

import (
	"strings"
	"time"

	"github.com/orgstack/orgstack/internal/accounts"
	api "github.com/orgstack/orgstack/internal/api/organizations"
	"github.com/orgstack/orgstack/internal/store"
)

// renderer turns handshake records into the API's Handshake, reading each
// management account once per request.
type renderer struct {
	tx    store.Tx
	accts map[string]*accounts.Account
}

func newRenderer(tx store.Tx) *renderer {
	return &renderer{tx: tx, accts: map[string]*accounts.Account{}}
}

func (rd *renderer) account(id string) (*accounts.Account, error) {
	if a, ok := rd.accts[id]; ok {
		return a, nil
	}
	a, err := accounts.Get(rd.tx, id)
	if err != nil {
		return nil, err
	}
	rd.accts[id] = a
	return a, nil
}

// handshake renders h as AWS shows it at now: the sending organization
// and the recipient as parties; as resources the organization (with its
// management account's email and name and its feature set), the recipient
// as the invitation named it, the notes, and for the steps of enabling all
// features the request they belong to. ARNs carry the action in lower case
// (…:handshake/o-…/invite/h-…), as in AWS's examples.
func (rd *renderer) handshake(h *handshake, now time.Time) (*api.Handshake, error) {
	mgmt, err := rd.account(h.ManagementID)
	if err != nil {
		return nil, err
	}
	parties := []api.HandshakeParty{{Id: ptr(h.OrgID), Type: ptr(api.HandshakePartyTypeOrganization)}}
	if h.AccountID != "" {
		parties = append(parties, api.HandshakeParty{Id: ptr(h.TargetID), Type: ptr(api.HandshakePartyType(h.TargetType))})
	}
	orgRes := api.HandshakeResource{Type: ptr(api.HandshakeResourceTypeOrganization), Value: ptr(h.OrgID)}
	var resources []api.HandshakeResource
	switch h.Action {
	case string(api.ActionTypeInvite):
		orgRes.Resources = []api.HandshakeResource{
			{Type: ptr(api.HandshakeResourceTypeMasterEmail), Value: ptr(mgmt.Email)},
			{Type: ptr(api.HandshakeResourceTypeMasterName), Value: ptr(mgmt.Name)},
			{Type: ptr(api.HandshakeResourceTypeOrganizationFeatureSet), Value: ptr(h.FeatureSet)},
		}
		resources = append(resources, orgRes,
			api.HandshakeResource{Type: ptr(api.HandshakeResourceType(h.TargetType)), Value: ptr(h.TargetID)})
		if h.Notes != nil {
			resources = append(resources, api.HandshakeResource{Type: ptr(api.HandshakeResourceTypeNotes), Value: h.Notes})
		}
	case string(api.ActionTypeTransferResponsibility):
		if resources, err = transferHandshakeResources(rd.tx, h); err != nil {
			return nil, err
		}
	default:
		resources = append(resources, orgRes)
		if h.ParentID != "" {
			resources = append(resources, api.HandshakeResource{Type: ptr(api.HandshakeResourceTypeParentHandshake), Value: ptr(h.ParentID)})
		}
	}
	return &api.Handshake{
		Id:                  ptr(h.ID),
		Arn:                 ptr("arn:aws:organizations::" + h.ManagementID + ":handshake/" + h.OrgID + "/" + strings.ToLower(h.Action) + "/" + h.ID),
		Parties:             parties,
		State:               ptr(api.HandshakeState(h.effectiveState(now))),
		RequestedTimestamp:  ptr(h.RequestedAt),
		ExpirationTimestamp: ptr(h.ExpiresAt),
		Action:              ptr(api.ActionType(h.Action)),
		Resources:           resources,
	}, nil
}
