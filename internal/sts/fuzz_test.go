package sts

import (
	"context"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/orgstack/orgstack/internal/accounts"
	"github.com/orgstack/orgstack/internal/auth"
	"github.com/orgstack/orgstack/internal/clock"
	"github.com/orgstack/orgstack/internal/store"
	"github.com/orgstack/orgstack/internal/store/sqlite"
)

// FuzzServe drives the awsQuery front of STS with arbitrary form bodies
// and query strings, as a signed-in account. Every answer must be an XML
// document in STS's namespace: a result with status 200, or an
// <ErrorResponse> whose code and status agree with what went wrong, never
// an internal error. A body that is not form encoding is
// MalformedQueryString, a request without an Action MissingAction.
//
// Seed corpora live in testdata/fuzz/FuzzServe/; run
//
//	go test -run '^$' -fuzz '^FuzzServe$' -fuzztime 60s ./internal/sts
func FuzzServe(f *testing.F) {
	const caller = "123456789012"
	ctx := context.Background()
	st, err := sqlite.Open(ctx, sqlite.Options{Path: sqlite.Memory})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	clk := clock.New(clock.Virtual, func() time.Time { return time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC) })
	if err := st.Write(ctx, func(tx store.Tx) error {
		_, err := accounts.Ensure(tx, caller, clk.Now())
		return err
	}); err != nil {
		f.Fatal(err)
	}
	s := New(Options{Store: st, Clock: clk})
	principal := auth.Principal{AccountID: caller, ARN: auth.RootARN(caller), UserID: caller, AccessKeyID: caller}

	for _, body := range []string{
		"Action=GetCallerIdentity&Version=2011-06-15",
		"Action=AssumeRole&Version=2011-06-15&RoleArn=arn:aws:iam::123456789012:role/OrganizationAccountAccessRole&RoleSessionName=s&DurationSeconds=900",
		"Action=GetSessionToken&DurationSeconds=3600&TokenCode=123456&SerialNumber=arn:aws:iam::123456789012:mfa/x",
		"Action=AssumeRole&RoleArn=x&RoleSessionName=%ff%00&ExternalId=%3C%26%3E",
		"Action=GetFederationToken", "Action=Nope&Version=2011-06-15", "Version=1999-01-01", "%zz=1", "a;b",
	} {
		f.Add(true, "", []byte(body))
	}
	f.Add(false, "Action=GetCallerIdentity&Version=2011-06-15", []byte(nil))
	f.Add(false, "Action=AssumeRole&RoleArn=arn:aws:iam::123456789012:role/R&RoleSessionName=s", []byte(nil))
	f.Fuzz(func(t *testing.T, post bool, rawQuery string, body []byte) {
		method := http.MethodGet
		if post {
			method = http.MethodPost
		}
		r := httptest.NewRequest(method, "/", nil)
		r.URL.RawQuery = rawQuery
		w := httptest.NewRecorder()
		status, _, err := s.Serve(auth.WithPrincipal(ctx, principal), w, "req-1", r, body)
		if status != w.Code {
			t.Fatalf("Serve says %d, wrote %d", status, w.Code)
		}
		if status >= 500 && status != http.StatusNotImplemented {
			t.Fatalf("%s ?%q %q: %d %v\n%s", method, rawQuery, body, status, err, w.Body)
		}
		var doc struct {
			XMLName xml.Name
			Error   struct {
				Type, Code, Message string
			}
		}
		if err := xml.Unmarshal(w.Body.Bytes(), &doc); err != nil {
			t.Fatalf("the answer is not XML: %v\n%s", err, w.Body)
		}
		if doc.XMLName.Space != xmlNamespace || w.Header().Get("Content-Type") != contentType {
			t.Fatalf("answer in %q as %q", doc.XMLName.Space, w.Header().Get("Content-Type"))
		}
		if status == http.StatusOK {
			if err != nil || doc.XMLName.Local == "ErrorResponse" {
				t.Fatalf("200 with error %v: %s", err, w.Body)
			}
			return
		}
		if doc.XMLName.Local != "ErrorResponse" || doc.Error.Code == "" || doc.Error.Message == "" || err == nil {
			t.Fatalf("%d without an error document: %s", status, w.Body)
		}
		want := ""
		if _, perr := url.ParseQuery(string(body)); post && perr != nil {
			want = "MalformedQueryString"
		} else if action := actionOf(r, body, post); action == "" {
			want = "MissingAction"
		}
		if want != "" && doc.Error.Code != want && doc.Error.Code != "InvalidAction" {
			t.Fatalf("%s ?%q %q: %s, want %s", method, rawQuery, body, doc.Error.Code, want)
		}
	})
}

// actionOf is the Action a request names, query first, as Serve reads it.
func actionOf(r *http.Request, body []byte, post bool) string {
	params := r.URL.Query()
	if post {
		form, _ := url.ParseQuery(string(body))
		for k, vs := range form {
			params[k] = append(params[k], vs...)
		}
	}
	return params.Get("Action")
}
