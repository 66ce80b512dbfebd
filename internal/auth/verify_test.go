package auth

import (
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

const testSecret = "test/secret+KEY"

// sign signs r over sig's fields with this package's own functions. The
// independent checks are the suite, Go SDK and botocore tests; this helper
// only builds well-formed baselines for the error-path tests below.
func sign(t testing.TB, r *http.Request, body []byte, secret string, sig Signature) *http.Request {
	t.Helper()
	sig.SignedHeaders = slices.Sorted(slices.Values(sig.SignedHeaders))
	creds := sig.AccessKeyID + "/" + sig.Scope()
	if sig.Presigned {
		q := r.URL.Query()
		q.Set("X-Amz-Algorithm", sig.Algorithm)
		q.Set("X-Amz-Credential", creds)
		q.Set("X-Amz-Date", sig.AmzDate)
		q.Set("X-Amz-SignedHeaders", strings.Join(sig.SignedHeaders, ";"))
		q.Set("X-Amz-Expires", strconv.Itoa(int(sig.Expires/time.Second)))
		r.URL.RawQuery = q.Encode()
	} else {
		r.Header.Set("X-Amz-Date", sig.AmzDate)
	}
	headers, err := CanonicalHeaders(r, sig.SignedHeaders)
	if err != nil {
		t.Fatal(err)
	}
	payload := r.Header.Get("X-Amz-Content-Sha256")
	if payload == "" {
		payload = hashHex(body)
	}
	creq := CanonicalRequest(r.Method, CanonicalURI(r.URL.EscapedPath(), false), CanonicalQuery(r.URL.RawQuery, sig.Presigned),
		headers, sig.SignedHeaders, payload)
	s := SignatureHex(SigningKey(secret, sig.Date, sig.Region, sig.Service), StringToSign(sig.AmzDate, sig.Scope(), creq))
	if sig.Presigned {
		r.URL.RawQuery += "&X-Amz-Signature=" + s
	} else {
		r.Header.Set("Authorization", sig.Algorithm+" Credential="+creds+", SignedHeaders="+
			strings.Join(sig.SignedHeaders, ";")+", Signature="+s)
	}
	return r
}

func baseSignature(at time.Time) Signature {
	return Signature{
		Algorithm: Algorithm, AccessKeyID: "AKIDEXAMPLE", Date: at.Format(scopeDateFormat), Region: "us-east-1",
		Service: "organizations", Terminator: scopeTerminator,
		SignedHeaders: []string{"content-type", "host", "x-amz-date", "x-amz-target"},
		AmzDate:       at.Format(amzDateFormat),
	}
}

// presign turns a header signature into a presigned one: X-Amz-Date moves
// to the query, so it is no longer a signed header.
func presign(s *Signature, expires time.Duration) {
	s.Presigned, s.Expires = true, expires
	s.SignedHeaders = slices.DeleteFunc(s.SignedHeaders, func(h string) bool { return h == "x-amz-date" })
}

func orgRequest() *http.Request {
	return &http.Request{Method: http.MethodPost, URL: &url.URL{Path: "/"}, Host: "localhost:4566", Header: http.Header{
		"Content-Type": {"application/x-amz-json-1.1"},
		"X-Amz-Target": {orgTarget},
	}}
}

func TestVerify(t *testing.T) {
	body := []byte(`{}`)
	t0 := suiteTime
	orgs := VerifyOptions{Services: services}
	tests := []struct {
		name    string
		at      time.Time // request time
		now     time.Time
		edit    func(s *Signature, r *http.Request) // before signing
		after   func(r *http.Request)               // after signing
		opts    VerifyOptions
		code    string
		message string
	}{
		{name: "valid", now: t0},
		{name: "valid at +5 min", now: t0.Add(5 * time.Minute)},
		{name: "valid at -5 min", now: t0.Add(-5 * time.Minute)},
		{
			name: "expired", at: time.Date(2019, 4, 30, 7, 57, 32, 0, time.UTC), now: time.Date(2019, 4, 30, 10, 59, 9, 0, time.UTC),
			code: CodeInvalidSignature, message: "Signature expired: 20190430T075732Z is now earlier than 20190430T105409Z (20190430T105909Z - 5 min.)",
		},
		{
			name: "not yet current", now: t0.Add(-6 * time.Minute), code: CodeInvalidSignature,
			message: "Signature not yet current: 20150830T123600Z is still later than 20150830T123500Z (20150830T123000Z + 5 min.)",
		},
		{name: "wider skew", now: t0.Add(14 * time.Minute), opts: VerifyOptions{MaxSkew: 15 * time.Minute}},
		{
			name: "algorithm", now: t0, edit: func(s *Signature, _ *http.Request) { s.Algorithm = "AWS4-HMAC-SHA512" },
			code: CodeIncompleteSignature, message: "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA512'.",
		},
		{
			name: "terminator", now: t0, edit: func(s *Signature, _ *http.Request) { s.Terminator = "aws5_request" },
			code: CodeInvalidSignature, message: "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'. ",
		},
		{
			name: "service", now: t0, edit: func(s *Signature, _ *http.Request) { s.Service = "s3" }, opts: orgs,
			code: CodeInvalidSignature, message: "Credential should be scoped to correct service: 'organizations'. ",
		},
		{name: "other allowed service", now: t0, edit: func(s *Signature, _ *http.Request) { s.Service = "aco-automation" }, opts: orgs},
		{name: "any service when unrestricted", now: t0, edit: func(s *Signature, _ *http.Request) { s.Service = "s3" }},
		{name: "any region", now: t0, edit: func(s *Signature, _ *http.Request) { s.Region = "xx-mars-1" }, opts: orgs},
		{
			name: "empty region", now: t0, edit: func(s *Signature, _ *http.Request) { s.Region = "" },
			code: CodeInvalidSignature, message: "Credential should be scoped to a valid region, not ''. ",
		},
		{
			name: "scope date", now: t0, edit: func(s *Signature, _ *http.Request) { s.Date = "20150829" },
			code: CodeInvalidSignature,
			message: "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: " +
				"'20150829' != '20150830', from '20150830T123600Z'.",
		},
		{
			name: "host not signed", now: t0,
			edit: func(s *Signature, _ *http.Request) { s.SignedHeaders = []string{"content-type", "x-amz-date"} },
			code: CodeIncompleteSignature, message: "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
		},
		{
			name: "unsigned header changed", now: t0, after: func(r *http.Request) { r.Header.Set("User-Agent", "other") },
		},
		{
			name: "signed header changed", now: t0, after: func(r *http.Request) { r.Header.Set("X-Amz-Target", "x") },
			code: CodeInvalidSignature, message: msgSignatureMismatch,
		},
		{
			name: "signed header removed", now: t0, after: func(r *http.Request) { r.Header.Del("Content-Type") },
			code: CodeInvalidSignature, message: msgSignatureMismatch,
		},
		{
			name: "whitespace in signed values", now: t0,
			after: func(r *http.Request) { r.Header.Set("X-Amz-Target", "  "+orgTarget+"\t ") },
		},
		{
			name: "declared payload hash", now: t0,
			edit: func(s *Signature, r *http.Request) {
				r.Header.Set("X-Amz-Content-Sha256", hashHex([]byte(`{}`)))
				s.SignedHeaders = append(s.SignedHeaders, "x-amz-content-sha256")
			},
		},
		{
			name: "declared payload hash of another body", now: t0,
			edit: func(s *Signature, r *http.Request) { r.Header.Set("X-Amz-Content-Sha256", hashHex([]byte(`{"a":1}`))) },
			code: CodeInvalidSignature, message: msgSignatureMismatch,
		},
		{
			name: "UNSIGNED-PAYLOAD", now: t0,
			edit: func(s *Signature, r *http.Request) { r.Header.Set("X-Amz-Content-Sha256", unsignedPayload) },
		},
		{
			name: "presigned", now: t0.Add(time.Minute),
			edit: func(s *Signature, _ *http.Request) { presign(s, time.Minute) },
		},
		{
			name: "presigned expired", now: t0.Add(61 * time.Second),
			edit:    func(s *Signature, _ *http.Request) { presign(s, time.Minute) },
			code:    CodeInvalidSignature,
			message: "Signature expired: 20150830T123600Z is now earlier than 20150830T123601Z (20150830T123701Z - 1 min.)",
		},
		{
			name: "presigned expired, seconds", now: t0.Add(91 * time.Second),
			edit:    func(s *Signature, _ *http.Request) { presign(s, 90*time.Second) },
			code:    CodeInvalidSignature,
			message: "Signature expired: 20150830T123600Z is now earlier than 20150830T123601Z (20150830T123731Z - 90 sec.)",
		},
		{
			name: "presigned not yet current", now: t0.Add(-6 * time.Minute),
			edit:    func(s *Signature, _ *http.Request) { presign(s, time.Hour) },
			code:    CodeInvalidSignature,
			message: "Signature not yet current: 20150830T123600Z is still later than 20150830T123500Z (20150830T123000Z + 5 min.)",
		},
		{
			name: "presigned query tampered", now: t0,
			edit:  func(s *Signature, _ *http.Request) { presign(s, time.Hour) },
			after: func(r *http.Request) { r.URL.RawQuery += "&Action=DeleteEverything" },
			code:  CodeInvalidSignature, message: msgSignatureMismatch,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at := tt.at
			if at.IsZero() {
				at = t0
			}
			s := baseSignature(at)
			r := orgRequest()
			if tt.edit != nil {
				tt.edit(&s, r)
			}
			r = sign(t, r, body, testSecret, s)
			if tt.after != nil {
				tt.after(r)
			}
			sig, err := ParseRequest(r)
			if err != nil {
				t.Fatal(err)
			}
			err = Verify(r, body, sig, testSecret, tt.now, tt.opts)
			if tt.code == "" {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			assertCode(t, tt.name, err, tt.code, tt.message)
		})
	}
}

// A verified request must also fail for any other secret: guards against a
// cache that ignores part of its key.
func TestSigningKeyCacheKeyedBySecret(t *testing.T) {
	body := []byte(`{}`)
	r := sign(t, orgRequest(), body, testSecret, baseSignature(suiteTime))
	sig, err := ParseRequest(r)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := Verify(r, body, sig, testSecret, suiteTime, VerifyOptions{}); err != nil {
			t.Fatal(err)
		}
		assertCode(t, "other secret", Verify(r, body, sig, testSecret+"2", suiteTime, VerifyOptions{}), CodeInvalidSignature, msgSignatureMismatch)
	}
}

func TestKeyCacheBounded(t *testing.T) {
	c := keyCache{m: make(map[keyID]*macKey)}
	for i := range maxCachedKeys + 10 {
		want := SignatureHex(SigningKey("s", strconv.Itoa(i), "r", "svc"), "msg")
		if got := hex.EncodeToString(c.get("s", strconv.Itoa(i), "r", "svc").sum([]byte("msg"))); got != want {
			t.Fatalf("cached key signs %s, want %s", got, want)
		}
	}
	if len(c.m) > maxCachedKeys {
		t.Errorf("cache holds %d keys", len(c.m))
	}
}

func TestVerifyConcurrent(t *testing.T) {
	body := []byte(`{}`)
	r := sign(t, orgRequest(), body, testSecret, baseSignature(suiteTime))
	sig, err := ParseRequest(r)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	for i := range 8 {
		go func() {
			var err error
			for j := range 50 {
				secret := testSecret
				if (i+j)%3 == 0 {
					secret += strconv.Itoa(j)
				}
				e := Verify(r, body, sig, secret, suiteTime, VerifyOptions{})
				if (e == nil) != (secret == testSecret) {
					err = e
				}
			}
			done <- err
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}
