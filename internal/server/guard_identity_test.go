package server

import (
	"net/http/httptest"
	"strings"
	"testing"
)

func TestGuarded(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		method, path string
		want         bool
	}{
		{"GET", "/_orgstack/health", false},
		{"GET", "/_localstack/health", false},
		{"POST", "/_orgstack/health", true},
		{"GET", "/_orgstack/accounts", true},
		{"POST", "/_orgstack/reset", true},
		{"GET", "/_orgstack/clock", true},
		{"POST", "/moto-api/reset", true},
		{"POST", "/_localstack/state/reset", true},
		{"POST", "/", false},
		{"GET", "/metrics", false},
	} {
		if got := guarded(httptest.NewRequest(tc.method, tc.path, nil)); got != tc.want {
			t.Errorf("guarded(%s %s) = %v, want %v", tc.method, tc.path, got, tc.want)
		}
	}
}

func TestAdminAuthorized(t *testing.T) {
	t.Parallel()
	s := &Server{opts: Options{AdminToken: "secret"}}
	for header, want := range map[string]bool{
		"Bearer secret": true, "Bearer  secret ": true, "Bearer secreT": false, "bearer secret": false,
		"Basic secret": false, "secret": false, "": false, "Bearer ": false,
	} {
		r := httptest.NewRequest("GET", "/_orgstack/accounts", nil)
		if header != "" {
			r.Header.Set("Authorization", header)
		}
		if got := s.adminAuthorized(r); got != want {
			t.Errorf("Authorization %q: %v, want %v", header, got, want)
		}
	}
	empty := &Server{opts: Options{}}
	r := httptest.NewRequest("GET", "/_orgstack/accounts", nil)
	r.Header.Set("Authorization", "Bearer ")
	if empty.adminAuthorized(r) {
		t.Error("an empty configured token authorised an empty bearer")
	}
}

func TestIsQuery(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		method, target string
		header         map[string]string
		want           bool
	}{
		{"POST", "/", map[string]string{"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}, true},
		{"GET", "/?Action=GetCallerIdentity&Version=2011-06-15", nil, true},
		{"GET", "/", nil, false},
		{"POST", "/", map[string]string{"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "X.Y"}, false},
		{"POST", "/", map[string]string{"Content-Type": "application/x-www-form-urlencoded", "X-Amz-Target": "X.Y"}, false},
		{"POST", "/service/S/operation/O", map[string]string{"Smithy-Protocol": "rpc-v2-cbor", "Content-Type": "application/x-www-form-urlencoded"}, false},
		{"PUT", "/?Action=GetCallerIdentity", nil, false},
	} {
		r := httptest.NewRequest(tc.method, tc.target, strings.NewReader(""))
		for k, v := range tc.header {
			r.Header.Set(k, v)
		}
		if got := isQuery(r); got != tc.want {
			t.Errorf("isQuery(%s %s %v) = %v, want %v", tc.method, tc.target, tc.header, got, tc.want)
		}
	}
}
