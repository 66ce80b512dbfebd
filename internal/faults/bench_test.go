package faults

import (
	"context"
	"os"
	"testing"

	orgapi "github.com/orgstack/orgstack/internal/api/organizations"
	"github.com/orgstack/orgstack/internal/store"
	"github.com/orgstack/orgstack/internal/store/sqlite"
	"github.com/orgstack/orgstack/internal/store/testengine"
)

// BenchmarkInject is the check every API request makes: with no rules
// (the common case), and with a rule that does not match the operation
// (the rule set is read and compared, not decoded). The PostgreSQL
// variants run with ORGSTACK_TEST_POSTGRES set.
//
//	go test ./internal/faults -run '^$' -bench Inject
func BenchmarkInject(b *testing.B) {
	op := orgapi.Service.Operation("DescribeOrganization")
	engines := map[string]func(testing.TB) store.Store{
		"sqlite": func(tb testing.TB) store.Store {
			st, err := sqlite.Open(context.Background(), sqlite.Options{Path: ":memory:"})
			if err != nil {
				tb.Fatal(err)
			}
			tb.Cleanup(func() { st.Close() })
			return st
		},
	}
	if os.Getenv(testengine.PostgresVar) != "" {
		engines["postgres"] = func(tb testing.TB) store.Store { return testengine.Postgres(tb) }
	}
	for _, engine := range []string{"sqlite", "postgres"} {
		open := engines[engine]
		if open == nil {
			continue
		}
		for _, tc := range []struct {
			name  string
			rules []Spec
		}{
			{"no-rules", nil},
			{"other-rule", []Spec{{Service: "organizations", Operation: "ListRoots", Error: "TooManyRequestsException"}}},
		} {
			b.Run(engine+"/"+tc.name, func(b *testing.B) {
				in := newInjector(b, open(b), nil)
				for _, s := range tc.rules {
					mustAdd(b, in, s)
				}
				ctx := context.Background()
				b.ReportAllocs()
				b.ResetTimer() // opening a PostgreSQL schema takes a second
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if e, err := in.Inject(ctx, orgapi.Service, op, "111111111111"); e != nil || err != nil {
							b.Fatal(e, err)
						}
					}
				})
			})
		}
	}
}
