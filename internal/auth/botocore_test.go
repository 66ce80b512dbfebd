package auth

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"
)

// botocoreFile is testdata/botocore/sigv4_requests.json: requests signed by
// botocore itself (see the README there), not by our code.
type botocoreFile struct {
	AccessKeyID     string `json:"access_key_id"`
	SecretAccessKey string `json:"secret_access_key"`
	SessionToken    string `json:"session_token"`
	Time            string `json:"time"`
	Requests        map[string]struct {
		Method     string      `json:"method"`
		URL        string      `json:"url"`
		Headers    [][2]string `json:"headers"`
		BodyBase64 string      `json:"body_base64"`
	} `json:"requests"`
	PresignedURL string `json:"presigned_sts_get_caller_identity_url"`
}

var services = []string{"organizations", "aco-automation", "sts"}

func loadBotocore(t *testing.T) (botocoreFile, time.Time) {
	t.Helper()
	var f botocoreFile
	if err := json.Unmarshal([]byte(readFile(t, "testdata/botocore/sigv4_requests.json")), &f); err != nil {
		t.Fatal(err)
	}
	now, err := time.Parse(amzDateFormat, f.Time)
	if err != nil {
		t.Fatal(err)
	}
	return f, now
}

// serverRequest turns a captured client request into what Go's server would
// hand a handler: Host moved to r.Host, which botocore left for urllib3 to
// add from the URL.
func serverRequest(t *testing.T, method, rawURL string, headers [][2]string) *http.Request {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	r := &http.Request{Method: method, URL: &url.URL{Path: u.Path, RawPath: u.RawPath, RawQuery: u.RawQuery},
		Host: u.Host, Header: http.Header{}}
	for _, h := range headers {
		r.Header.Add(h[0], h[1])
	}
	return r
}

func TestBotocoreSignedRequests(t *testing.T) {
	f, now := loadBotocore(t)
	wantSigned := []string{"content-type", "host", "x-amz-date", "x-amz-security-token", "x-amz-target"}
	for name, c := range f.Requests {
		t.Run(name, func(t *testing.T) {
			body, err := base64.StdEncoding.DecodeString(c.BodyBase64)
			if err != nil {
				t.Fatal(err)
			}
			r := serverRequest(t, c.Method, c.URL, c.Headers)
			sig, err := ParseRequest(r)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(sig.SignedHeaders, wantSigned) {
				t.Errorf("botocore signed %v, want %v", sig.SignedHeaders, wantSigned)
			}
			if sig.SecurityToken != f.SessionToken || sig.AccessKeyID != f.AccessKeyID {
				t.Errorf("token/key = %q/%q", sig.SecurityToken, sig.AccessKeyID)
			}
			opts := VerifyOptions{Services: services}
			if err := Verify(r, body, sig, f.SecretAccessKey, now, opts); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			// Content-Length is sent but not signed by botocore: changing
			// it must not matter, changing a signed header must.
			r.Header.Set("Content-Length", "999")
			if err := Verify(r, body, sig, f.SecretAccessKey, now, opts); err != nil {
				t.Errorf("unsigned header changed: %v", err)
			}
			r.Header.Set("X-Amz-Target", "AWSOrganizationsV20161128.LeaveOrganization")
			assertCode(t, "changed target", Verify(r, body, sig, f.SecretAccessKey, now, opts), CodeInvalidSignature, msgSignatureMismatch)
		})
	}

	t.Run("presigned-sts", func(t *testing.T) {
		r := serverRequest(t, http.MethodGet, f.PresignedURL, nil)
		sig, err := ParseRequest(r)
		if err != nil {
			t.Fatal(err)
		}
		if !sig.Presigned || sig.Expires != 900*time.Second || sig.Service != "sts" || sig.SecurityToken != f.SessionToken {
			t.Fatalf("parsed %+v", sig)
		}
		opts := VerifyOptions{Services: services}
		if err := Verify(r, nil, sig, f.SecretAccessKey, now.Add(14*time.Minute), opts); err != nil {
			t.Fatalf("Verify: %v", err)
		}
		assertCode(t, "wrong secret", Verify(r, nil, sig, "nope", now, opts), CodeInvalidSignature, msgSignatureMismatch)
		assertCode(t, "after 15 min", Verify(r, nil, sig, f.SecretAccessKey, now.Add(16*time.Minute), opts), CodeInvalidSignature,
			"Signature expired: 20260115T103000Z is now earlier than 20260115T103100Z (20260115T104600Z - 15 min.)")
	})
}
