package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

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
