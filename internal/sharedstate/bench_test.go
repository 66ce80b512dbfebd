package sharedstate

import (
	"context"
	"testing"

	"github.com/orgstack/orgstack/internal/clock"
	"github.com/orgstack/orgstack/internal/store"
	"github.com/orgstack/orgstack/internal/store/testengine"
)

// readOnly hides the engine's single-key Get, leaving Refresh a Read.
type readOnly struct{ store.Store }

// BenchmarkRefresh is what every request on a shared store pays before
// it starts, when nothing changed: one point read of the shared record.
//
//	ORGSTACK_TEST_POSTGRES=… go test ./internal/sharedstate -run '^$' -bench Refresh
func BenchmarkRefresh(b *testing.B) {
	st := testengine.Postgres(b)
	for _, bc := range []struct {
		name  string
		store store.Store
	}{
		{"point-get", st},
		{"read-tx", readOnly{st}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			k, err := Open(context.Background(), Options{Store: bc.store, Clock: clock.New(clock.Real, nil)})
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if err := k.Refresh(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
