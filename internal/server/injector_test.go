package server

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	orgapi "github.com/orgstack/orgstack/internal/api/organizations"
	"github.com/orgstack/orgstack/internal/clock"
	"github.com/orgstack/orgstack/internal/protocol"
	"github.com/orgstack/orgstack/internal/store"
	"github.com/orgstack/orgstack/internal/store/sqlite"
)

// injectorFunc adapts a function to Injector.
type injectorFunc func(ctx context.Context, svc *protocol.Service, op *protocol.Operation, account string) (protocol.APIError, error)

func (f injectorFunc) Inject(ctx context.Context, svc *protocol.Service, op *protocol.Operation, account string) (protocol.APIError, error) {
	return f(ctx, svc, op, account)
}

// TestInjectors: injectors are asked in order, after authentication, with
// the operation and account; the first refusal is the answer and the
// domain never runs, whatever the body; their own failures are the
// service's errors, as the domain's are.
func TestInjectors(t *testing.T) {
	t.Parallel()
	st, err := sqlite.Open(context.Background(), sqlite.Options{Path: sqlite.Memory})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var asked []string
	var answer protocol.APIError
	var failure error
	record := func(name string) Injector {
		return injectorFunc(func(_ context.Context, svc *protocol.Service, op *protocol.Operation, account string) (protocol.APIError, error) {
			asked = append(asked, fmt.Sprintf("%s %s.%s %s", name, svc.Name, op.Name, account))
			if name == "second" {
				return answer, failure
			}
			return nil, nil
		})
	}
	invoked := 0
	srv, err := New(context.Background(), Options{
		Store: st,
		Clock: clock.New(clock.Real, nil),
		Backends: []Backend{{
			Service: orgapi.Service,
			Invoke: func(context.Context, string, any) (any, error) {
				invoked++
				return &orgapi.DescribeOrganizationOutput{}, nil
			},
			BusyErrorCode: "ConcurrentModificationException",
			ValidationError: func(ve *protocol.ValidationError) protocol.APIError {
				return orgapi.NewInvalidInputException(ve.Message())
			},
		}},
		Injectors: []Injector{record("first"), record("second")},
	})
	if err != nil {
		t.Fatal(err)
	}
	send := func(body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", "/", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", "AWSOrganizationsV20161128.DescribeOrganization")
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=123456789012/20260101/us-east-1/organizations/aws4_request, SignedHeaders=host;x-amz-date, Signature="+strings.Repeat("0", 64))
		req.Header.Set("X-Amz-Date", time.Now().UTC().Format("20060102T150405Z"))
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		return rec
	}
	for _, tc := range []struct {
		name    string
		answer  protocol.APIError
		failure error
		body    string
		status  int
		errType string // empty: success
	}{
		{"let through", nil, nil, "{}", 200, ""},
		{"refused", orgapi.NewTooManyRequestsException("slow"), nil, "{}", 400, "TooManyRequestsException"},
		{"refused before decoding", orgapi.NewTooManyRequestsException("slow"), nil, "{not json", 400, "TooManyRequestsException"},
		{"store gave up", nil, fmt.Errorf("faults: %w", store.ErrBusy), "{}", 400, "ConcurrentModificationException"},
		{"store failed", nil, errors.New("disk on fire"), "{}", 500, "ServiceException"},
	} {
		asked, answer, failure, invoked = nil, tc.answer, tc.failure, 0
		rec := send(tc.body)
		if rec.Code != tc.status || rec.Header().Get("X-Amzn-Errortype") != tc.errType {
			t.Errorf("%s: %d %s %s, want %d %s", tc.name, rec.Code, rec.Header().Get("X-Amzn-Errortype"), rec.Body, tc.status, tc.errType)
		}
		want := "[first organizations.DescribeOrganization 123456789012 second organizations.DescribeOrganization 123456789012]"
		if fmt.Sprint(asked) != want {
			t.Errorf("%s: asked %v", tc.name, asked)
		}
		if ran := invoked == 1; ran != (tc.errType == "") {
			t.Errorf("%s: the domain ran %d times", tc.name, invoked)
		}
		if strings.Contains(rec.Body.String(), "disk on fire") {
			t.Errorf("%s: the cause reached the client: %s", tc.name, rec.Body)
		}
	}
	// Requests refused before the injectors, for naming no operation or
	// for a malformed signature, are not shown to them.
	for name, header := range map[string]map[string]string{
		"unknown operation": {"X-Amz-Target": "AWSOrganizationsV20161128.Frobnicate"},
		"bad signature": {"X-Amz-Target": "AWSOrganizationsV20161128.DescribeOrganization",
			"Authorization": "AWS4-HMAC-SHA256 Credential=123456789012/20260101/us-east-1/organizations/aws4_request"},
	} {
		asked = nil
		req := httptest.NewRequest("POST", "/", strings.NewReader("{}"))
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		for k, v := range header {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if len(asked) != 0 || rec.Code != 400 {
			t.Errorf("%s: %d, reached the injectors: %v", name, rec.Code, asked)
		}
	}
}
