// Package organizations is the AWS Organizations domain: organizations,
// roots, accounts' membership and, as they land, OUs, handshakes, policies
// and delegation. It implements the generated api.Handler; every operation
// runs in one store transaction and answers the generated exceptions.
package organizations

import (
	"context"
	"errors"
	"fmt"

	api "github.com/orgstack/orgstack/internal/api/organizations"
	"github.com/orgstack/orgstack/internal/auth"
	"github.com/orgstack/orgstack/internal/clock"
	"github.com/orgstack/orgstack/internal/protocol"
	"github.com/orgstack/orgstack/internal/runner"
	"github.com/orgstack/orgstack/internal/store"
)

// Options configure a Service.
type Options struct {
	Store store.Store
	Clock clock.Clock
	// MembershipListeners hear of accounts leaving an organization.
	MembershipListeners []MembershipListener
	// Quotas are the limits used while the store holds no override
	// (POST /_orgstack/quotas); nil means AWS's defaults.
	Quotas *Quotas
	// Runner does what AWS does in the background (finishing account
	// creation and closure). Without one, that work waits forever.
	Runner *runner.Runner
}

// Service implements the Organizations API.
type Service struct {
	// Operations that are not written yet answer NotImplementedException.
	api.UnimplementedHandler

	store         store.Store
	clock         clock.Clock
	listeners     []MembershipListener
	defaultQuotas Quotas
	runner        *runner.Runner
}

var _ api.Handler = (*Service)(nil)

// New returns the Organizations domain over the given store.
func New(opts Options) *Service {
	s := &Service{store: opts.Store, clock: opts.Clock, listeners: opts.MembershipListeners, defaultQuotas: DefaultQuotas()}
	if opts.Quotas != nil {
		s.defaultQuotas = *opts.Quotas
	}
	if opts.Runner != nil {
		s.runner = opts.Runner
		s.registerJobs(opts.Runner)
	}
	return s
}

// caller returns the account that signed the request.
func caller(ctx context.Context) (auth.Principal, error) {
	p, ok := auth.FromContext(ctx)
	if !ok || p.AccountID == "" {
		// The server always attaches a principal; reaching here is a wiring bug.
		return auth.Principal{}, errors.New("organizations: request has no principal")
	}
	return p, nil
}

// ValidationError turns the generated validators' findings into the
// InvalidInputException that Organizations answers, with the Reason that
// names the first violated constraint.
func ValidationError(ve *protocol.ValidationError) protocol.APIError {
	reason := api.InvalidInputExceptionReasonInputRequired
	if len(ve.Problems) > 0 {
		reason = validationReason(ve.Problems[0])
	}
	return &api.InvalidInputException{Message: ptr(ve.Message()), Reason: &reason}
}

func validationReason(p protocol.Problem) api.InvalidInputExceptionReason {
	switch p.Constraint {
	case protocol.Required:
		return api.InvalidInputExceptionReasonInputRequired
	case protocol.MinLength:
		return api.InvalidInputExceptionReasonMinLengthExceeded
	case protocol.MaxLength:
		return api.InvalidInputExceptionReasonMaxLengthExceeded
	case protocol.Pattern:
		if p.Shape == "PolicyTargetId" {
			return api.InvalidInputExceptionReasonInvalidPatternTargetId
		}
		if p.Shape == "PolicyId" {
			return api.InvalidInputExceptionReasonInvalidSyntaxPolicyId
		}
		return api.InvalidInputExceptionReasonInvalidPattern
	case protocol.Enum:
		if p.Shape == "PolicyType" || p.Shape == "EffectivePolicyType" {
			return api.InvalidInputExceptionReasonInvalidEnumPolicyType
		}
		return api.InvalidInputExceptionReasonInvalidEnum
	case protocol.MinValue:
		return api.InvalidInputExceptionReasonMinValueExceeded
	case protocol.MaxValue:
		return api.InvalidInputExceptionReasonMaxValueExceeded
	}
	return api.InvalidInputExceptionReasonInvalidListMember
}

func ptr[T any](v T) *T { return &v }

// errNotInUse is what every operation answers a caller outside any organization.
func errNotInUse() error {
	return api.NewAWSOrganizationsNotInUseException("Your account is not a member of an organization.")
}

func errManagementOnly(op string) error {
	return api.NewAccessDeniedException(fmt.Sprintf("You don't have permissions to access this resource: %s can only be called by the organization's management account.", op))
}
