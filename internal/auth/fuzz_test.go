package auth

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// The fuzz targets check the SigV4 parsers and the verifier. Seed corpora
// live in testdata/fuzz/<FuzzName>/; run e.g.
//
//	go test -run '^$' -fuzz '^FuzzParseAuthorization$' -fuzztime 60s ./internal/auth

// checkParseError requires a parse failure to be an *Error a client gets
// as a 4xx.
func checkParseError(t *testing.T, err error) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Status < 400 || e.Status > 499 || e.Message == "" {
		t.Fatalf("refused with %T %v, not a client *Error", err, err)
	}
	if e.Code != CodeIncompleteSignature && e.Code != CodeMissingAuthenticationToken {
		t.Fatalf("a malformed signature answered %s", e.Code)
	}
}

// checkSignature asserts what Verify relies on in a parsed signature.
func checkSignature(t *testing.T, sig *Signature) {
	t.Helper()
	if !slices.IsSorted(sig.SignedHeaders) || len(slices.Compact(slices.Clone(sig.SignedHeaders))) != len(sig.SignedHeaders) {
		t.Fatalf("SignedHeaders %q not sorted and unique", sig.SignedHeaders)
	}
	for _, h := range sig.SignedHeaders {
		if h == "" || h != strings.ToLower(h) || h != strings.TrimSpace(h) || strings.Contains(h, ";") {
			t.Fatalf("SignedHeaders holds %q", h)
		}
	}
	if got := sig.Time.Format(amzDateFormat); got != sig.AmzDate {
		t.Fatalf("the request time %v reads %q, the string to sign would say %q", sig.Time, got, sig.AmzDate)
	}
	for _, part := range []string{sig.AccessKeyID, sig.Date, sig.Service, sig.Terminator} {
		if strings.Contains(part, "/") {
			t.Fatalf("credential element %q holds a slash", part)
		}
	}
	if sig.Algorithm != algorithmV4A && strings.Contains(sig.Region, "/") {
		t.Fatalf("region %q holds a slash", sig.Region)
	}
}

// credential writes the Credential element of a parsed signature.
func credential(sig *Signature) string {
	if sig.Algorithm == algorithmV4A {
		return sig.AccessKeyID + "/" + sig.Date + "/" + sig.Service + "/" + sig.Terminator
	}
	return sig.AccessKeyID + "/" + sig.Scope()
}

// FuzzParseAuthorization: a malformed Authorization header is an
// IncompleteSignature; an accepted one yields a signature in the form
// Verify relies on, and the header written back from it parses the same.
func FuzzParseAuthorization(f *testing.F) {
	f.Add(goodAuth, "20150830T123600Z", "")
	f.Add("AWS4-HMAC-SHA256 Signature=abc,SignedHeaders=X-Amz-Date;Host;date,Credential=123456789012/20150830/eu-west-1/sts/aws4_request", "", "Sun, 30 Aug 2015 12:36:00 GMT")
	f.Add("AWS4-ECDSA-P256-SHA256 Credential=AKID/20150830/organizations/aws4_request, SignedHeaders=host, Signature=00", "20150830T123600Z", "")
	f.Add("AWS4-HMAC-SHA256 Credential=a/b/c, SignedHeaders=;;, Signature=", "yesterday", "Mon, 02 Jan 2006 15:04:05 MST")
	f.Add("Bearer eyJ", "", "")
	f.Fuzz(func(t *testing.T, header, amzDate, date string) {
		req := func(header string) *http.Request {
			h := http.Header{"Authorization": {header}}
			if amzDate != "" {
				h["X-Amz-Date"] = []string{amzDate}
			}
			if date != "" {
				h["Date"] = []string{date}
			}
			return &http.Request{Method: http.MethodPost, URL: &url.URL{Path: "/"}, Host: "localhost", Header: h}
		}
		sig, err := ParseRequest(req(header))
		if err != nil {
			checkParseError(t, err)
			return
		}
		checkSignature(t, sig)
		again := sig.Algorithm + " Credential=" + credential(sig) + ", SignedHeaders=" + strings.Join(sig.SignedHeaders, ";") + ", Signature=" + sig.Signature
		sig2, err := ParseRequest(req(again))
		if err != nil || !reflect.DeepEqual(sig, sig2) {
			t.Fatalf("%q parsed as %+v; written back as %q it parses as %+v, %v", header, sig, again, sig2, err)
		}
	})
}

// FuzzParsePresigned: the same for presigned query parameters, with the
// expiry bounded to a week.
func FuzzParsePresigned(f *testing.F) {
	q := url.Values{
		"Action": {"GetCallerIdentity"}, "Version": {"2011-06-15"},
		"X-Amz-Algorithm": {Algorithm}, "X-Amz-Credential": {"AKIDEXAMPLE/20150830/us-east-1/sts/aws4_request"},
		"X-Amz-Date": {"20150830T123600Z"}, "X-Amz-Expires": {"60"}, "X-Amz-SignedHeaders": {"host"},
		"X-Amz-Signature": {"abc"}, "X-Amz-Security-Token": {"tok"},
	}
	f.Add(q.Encode(), "")
	q.Del("X-Amz-Expires")
	q.Del("X-Amz-Security-Token")
	f.Add(q.Encode(), "header-token")
	f.Add("X-Amz-Algorithm=x&X-Amz-Expires=604801", "")
	f.Add("X-Amz-Signature=%zz;X-Amz-Date=1", "")
	f.Fuzz(func(t *testing.T, rawQuery, tokenHeader string) {
		req := func(rawQuery string) *http.Request {
			h := http.Header{}
			if tokenHeader != "" {
				h["X-Amz-Security-Token"] = []string{tokenHeader}
			}
			return &http.Request{Method: http.MethodGet, URL: &url.URL{Path: "/", RawQuery: rawQuery}, Host: "localhost", Header: h}
		}
		sig, err := ParseRequest(req(rawQuery))
		if err != nil {
			checkParseError(t, err)
			return
		}
		checkSignature(t, sig)
		if !sig.Presigned || sig.Expires < 0 || sig.Expires > maxPresignExpiry {
			t.Fatalf("presigned %v, expiry %v", sig.Presigned, sig.Expires)
		}
		again := url.Values{
			"X-Amz-Algorithm": {sig.Algorithm}, "X-Amz-Credential": {credential(sig)}, "X-Amz-Date": {sig.AmzDate},
			"X-Amz-SignedHeaders": {strings.Join(sig.SignedHeaders, ";")}, "X-Amz-Signature": {sig.Signature},
			"X-Amz-Expires": {strconv.FormatInt(int64(sig.Expires/time.Second), 10)},
		}
		if sig.SecurityToken != "" {
			again.Set("X-Amz-Security-Token", sig.SecurityToken)
		}
		sig2, err := ParseRequest(req(again.Encode()))
		if err != nil || !reflect.DeepEqual(sig, sig2) {
			t.Fatalf("%q parsed as %+v; written back as %q it parses as %+v, %v", rawQuery, sig, again.Encode(), sig2, err)
		}
	})
}

// FuzzVerifySigned signs requests with aws-sdk-go-v2's signer, an
// implementation independent of ours, and requires Verify to accept them
// and to refuse the same request with its body, a signed header or the
// signature changed: a forgery must never verify.
func FuzzVerifySigned(f *testing.F) {
	f.Add([]byte(`{"MaxResults":5}`), "", "MaxResults", "5", "value")
	f.Add([]byte{}, "service/ComputeOptimizerAutomationService/operation/ListRules", "", "", "  two  spaces  ")
	f.Add([]byte("\x00\xff"), "a b/é/%2F", "k=", "v&w", "tab\there")
	f.Fuzz(verifyOnce)
}

// verifyOnce is one run of FuzzVerifySigned.
func verifyOnce(t *testing.T, body []byte, path, key, value, meta string) {
	if !validHeaderValue(meta) {
		return // no HTTP client sends it
	}
	const secret = "orgstack/fuzz+secret"
	at := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	build := func(body []byte, meta string) *http.Request {
		u := &url.URL{Scheme: "http", Host: "localhost:4566", Path: "/" + path}
		if key != "" || value != "" {
			u.RawQuery = url.Values{key: {value}}.Encode()
		}
		r, err := http.NewRequest(http.MethodPost, u.String(), bytes.NewReader(body))
		if err != nil {
			t.Skip("not a URL a client can send")
		}
		r.Header.Set("Content-Type", "application/x-amz-json-1.1")
		r.Header.Set("X-Amz-Meta-Fuzz", meta)
		return r
	}
	sign := func(r *http.Request, body []byte) {
		err := v4.NewSigner().SignHTTP(context.Background(), sdkCredsForFuzz(secret), r, hashHex(body), "organizations", "us-east-1", at)
		if err != nil {
			t.Fatal(err)
		}
		r.Host = r.URL.Host // where a server finds it
	}
	verify := func(r *http.Request, body []byte) error {
		sig, err := ParseRequest(r)
		if err != nil {
			return err
		}
		return Verify(r, body, sig, secret, at, VerifyOptions{Services: services})
	}

	r := build(body, meta)
	sign(r, body)
	if err := verify(r, body); err != nil {
		t.Fatalf("the SDK's signature of %s %q (body %q, meta %q) does not verify: %v", r.Method, r.URL, body, meta, err)
	}
	forged := map[string]func() (*http.Request, []byte){
		"body with one more byte": func() (*http.Request, []byte) { return r, append(slices.Clone(body), 'x') },
		"signed header changed": func() (*http.Request, []byte) {
			f := r.Clone(context.Background())
			f.Header.Set("X-Amz-Meta-Fuzz", meta+"x")
			return f, body
		},
		"signature changed": func() (*http.Request, []byte) {
			f := r.Clone(context.Background())
			a := f.Header.Get("Authorization")
			last := a[len(a)-1]
			f.Header.Set("Authorization", a[:len(a)-1]+string("01"[(last&1)^1]))
			return f, body
		},
	}
	if len(body) > 0 {
		forged["body with a byte changed"] = func() (*http.Request, []byte) {
			b := slices.Clone(body)
			b[0] ^= 0x01
			return r, b
		}
	}
	for name, forge := range forged {
		if fr, fb := forge(); verify(fr, fb) == nil {
			t.Fatalf("forgery verified: %s", name)
		}
	}
}

func sdkCredsForFuzz(secret string) aws.Credentials {
	c := sdkCreds
	c.SecretAccessKey = secret
	return c
}

// validHeaderValue is what net/http lets a client send: no control
// characters but tab.
func validHeaderValue(v string) bool {
	for i := range len(v) {
		if c := v[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}
