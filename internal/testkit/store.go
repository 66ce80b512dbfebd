package testkit

import (
	"context"

	"github.com/orgstack/orgstack/internal/automation"
	"github.com/orgstack/orgstack/internal/organizations"
	"github.com/orgstack/orgstack/internal/store"
)

// VerifyStore reads the whole store in one transaction and returns every
// inconsistency between its records and indexes that the domains find
// (organizations.Verify, automation.Verify): what the API cannot show,
// such as tags or index entries left behind by a removed account. It
// complements Check for tests that hold the store: in process, or after
// the server process stopped.
func VerifyStore(ctx context.Context, st store.Store) ([]string, error) {
	var problems []string
	err := st.Read(ctx, func(tx store.Tx) error {
		for _, verify := range []func(store.Tx) ([]string, error){organizations.Verify, automation.Verify} {
			p, err := verify(tx)
			if err != nil {
				return err
			}
			problems = append(problems, p...)
		}
		return nil
	})
	return problems, err
}
