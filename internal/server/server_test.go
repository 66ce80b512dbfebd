package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	orgapi "github.com/orgstack/orgstack/internal/api/organizations"
	"github.com/orgstack/orgstack/internal/protocol"
	"github.com/orgstack/orgstack/internal/store"

	"github.com/orgstack/orgstack/internal/clock"
	"github.com/orgstack/orgstack/internal/store/sqlite"
)

func TestPanicInAHandlerIsA500(t *testing.T) {
	t.Parallel()
	st, err := sqlite.Open(context.Background(), sqlite.Options{Path: sqlite.Memory})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv, err := New(context.Background(), Options{
		Store: st,
		Clock: clock.New(clock.Real, nil),
		AdminRoutes: map[string]http.Handler{
			"GET /_orgstack/boom": http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest("GET", "/_orgstack/boom", nil))
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("status = %d, want 500", rec.Code)
	}
	rec = httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest("GET", "/_orgstack/health", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("after a panic, health = %d", rec.Code)
	}
}

// TestBusyStoreIsTheServicesConcurrencyError: when the store gives up on a
// transaction because of concurrent writers, the client gets the service's
// own retryable answer, not an internal error.
func TestBusyStoreIsTheServicesConcurrencyError(t *testing.T) {
	t.Parallel()
	st, err := sqlite.Open(context.Background(), sqlite.Options{Path: sqlite.Memory})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	busy := func(context.Context, string, any) (any, error) {
		return nil, fmt.Errorf("write: %w", store.ErrBusy)
	}
	srv, err := New(context.Background(), Options{
		Store: st,
		Clock: clock.New(clock.Real, nil),
		Backends: []Backend{{
			Service: orgapi.Service, Invoke: busy, BusyErrorCode: "ConcurrentModificationException",
			ValidationError: func(ve *protocol.ValidationError) protocol.APIError {
				return orgapi.NewInvalidInputException(ve.Message())
			},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("POST", "/", strings.NewReader("{}"))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AWSOrganizationsV20161128.DescribeOrganization")
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), `"__type":"ConcurrentModificationException"`) {
		t.Fatalf("got %d %s, want 400 ConcurrentModificationException", rec.Code, rec.Body.String())
	}
}

// pingStore is a store whose database answers pings or not.
type pingStore struct {
	store.Store
	down bool
}

func (p *pingStore) Ping(context.Context) error {
	if p.down {
		return errors.New("connection refused")
	}
	return nil
}

// hiddenPing hides the engine's Ping, as a store wrapper might.
type hiddenPing struct{ store.Store }

func TestHealthReportsTheDatabase(t *testing.T) {
	t.Parallel()
	st, err := sqlite.Open(context.Background(), sqlite.Options{Path: sqlite.Memory})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, tc := range []struct {
		name       string
		store      store.Store
		wantStatus int
		reachable  bool
	}{
		{"engine ping", st, http.StatusOK, true},
		{"reachable", &pingStore{Store: st}, http.StatusOK, true},
		{"unreachable", &pingStore{Store: st, down: true}, http.StatusServiceUnavailable, false},
		{"no ping: a read", hiddenPing{st}, http.StatusOK, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, err := New(context.Background(), Options{Store: tc.store, Clock: clock.New(clock.Real, nil)})
			if err != nil {
				t.Fatal(err)
			}
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, httptest.NewRequest("GET", "/_orgstack/health", nil))
			var h struct {
				Status string `json:"status"`
				Store  struct {
					Engine    string `json:"engine"`
					Reachable bool   `json:"reachable"`
				} `json:"store"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &h); err != nil {
				t.Fatalf("health body %q: %v", rec.Body, err)
			}
			wantWord := map[bool]string{true: "ok", false: "unavailable"}[tc.reachable]
			if rec.Code != tc.wantStatus || h.Status != wantWord || h.Store.Reachable != tc.reachable || h.Store.Engine != "sqlite" {
				t.Fatalf("health = %d %s", rec.Code, rec.Body)
			}
		})
	}
}

// busyWrites is a store whose writes give up on concurrent writers once
// busy is set.
type busyWrites struct {
	store.Store
	busy atomic.Bool
}

func (b *busyWrites) Write(ctx context.Context, fn func(store.Tx) error) error {
	if b.busy.Load() {
		return fmt.Errorf("write: %w", store.ErrBusy)
	}
	return b.Store.Write(ctx, fn)
}

// TestBusyStoreOnFirstUseOfAnAccount: in open mode the first request of
// an account records the account, a write that can meet concurrent
// writers too; it answers the service's retryable error, never a 500.
func TestBusyStoreOnFirstUseOfAnAccount(t *testing.T) {
	t.Parallel()
	st, err := sqlite.Open(context.Background(), sqlite.Options{Path: sqlite.Memory})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	bst := &busyWrites{Store: st}
	invoked := false
	srv, err := New(context.Background(), Options{
		Store: bst,
		Clock: clock.New(clock.Real, nil),
		Backends: []Backend{{
			Service: orgapi.Service, BusyErrorCode: "ConcurrentModificationException",
			Invoke: func(context.Context, string, any) (any, error) {
				invoked = true
				return &orgapi.DescribeOrganizationOutput{}, nil
			},
			ValidationError: func(ve *protocol.ValidationError) protocol.APIError {
				return orgapi.NewInvalidInputException(ve.Message())
			},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	bst.busy.Store(true)
	req := httptest.NewRequest("POST", "/", strings.NewReader("{}"))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AWSOrganizationsV20161128.DescribeOrganization")
	req.Header.Set("X-Amz-Date", "20260101T000000Z")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=123456789012/20260101/us-east-1/organizations/aws4_request, SignedHeaders=host, Signature="+strings.Repeat("0", 64))
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), `"__type":"ConcurrentModificationException"`) || invoked {
		t.Fatalf("got %d %s (operation ran: %v), want 400 ConcurrentModificationException before the operation", rec.Code, rec.Body.String(), invoked)
	}
}
