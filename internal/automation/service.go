// Package automation is the Compute Optimizer Automation domain: enrollment
// and, as they land, member-account association, automation rules,
// recommended actions and automation events. It implements the generated
// api.Handler; every operation runs in one store transaction.
package automation

import (
	"context"
	"errors"
	"regexp"

	api "github.com/orgstack/orgstack/internal/api/automation"
	"github.com/orgstack/orgstack/internal/auth"
	"github.com/orgstack/orgstack/internal/clock"
	"github.com/orgstack/orgstack/internal/organizations"
	"github.com/orgstack/orgstack/internal/protocol"
	"github.com/orgstack/orgstack/internal/runner"
	"github.com/orgstack/orgstack/internal/store"
)

// Options configure a Service.
type Options struct {
	Store store.Store
	Clock clock.Clock
	// Runner performs automation events and scheduled rule runs; nil
	// leaves them unperformed (unit tests of other operations).
	Runner *runner.Runner
}

// Service implements the Compute Optimizer Automation API.
type Service struct {
	// Operations that are not written yet answer NotImplementedException.
	api.UnimplementedHandler

	store  store.Store
	clock  clock.Clock
	runner *runner.Runner
}

var _ api.Handler = (*Service)(nil)

// New returns the Automation domain over the given store.
func New(opts Options) *Service {
	s := &Service{store: opts.Store, clock: opts.Clock, runner: opts.Runner}
	if s.runner != nil {
		s.runner.Register(jobEventStep, runner.Kind{Run: runEventStep, OnFail: eventStepFailed})
		s.runner.Register(jobRuleRun, runner.Kind{Run: runRule, OnFail: ruleRunFailed})
		s.runner.Register(jobRuleContinue, runner.Kind{Run: runRuleContinue})
	}
	return s
}

// kick wakes the runner after a transaction that enqueued work committed.
func (s *Service) kick() {
	if s.runner != nil {
		s.runner.Kick()
	}
}

func caller(ctx context.Context) (auth.Principal, error) {
	p, ok := auth.FromContext(ctx)
	if !ok || p.AccountID == "" {
		return auth.Principal{}, errors.New("automation: request has no principal")
	}
	return p, nil
}

// ValidationError turns the generated validators' findings into the
// InvalidParameterValueException that Automation answers.
func ValidationError(ve *protocol.ValidationError) protocol.APIError {
	return api.NewInvalidParameterValueException(ve.Message())
}

func ptr[T any](v T) *T { return &v }

// The model's ClientToken pattern is not anchored, so any value with one
// allowed character passes it; AWS documents the whole token as 1-64
// letters, digits, underscores and hyphens, and so checks the domain.
var clientTokenRE = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)

func checkClientToken(tok *string) error {
	if tok != nil && !clientTokenRE.MatchString(*tok) {
		return api.NewInvalidParameterValueException("The clientToken must be 1 to 64 letters, digits, underscores or hyphens.")
	}
	return nil
}

// Automation keeps per-member state (associations) that Organizations must
// end when an account leaves.
var _ organizations.MembershipListener = (*Service)(nil)
