package auth

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// These tests sign with aws-sdk-go-v2's signer, send over a real socket and
// verify in a real Go server handler, so that Go's own header handling
// (Host moved to r.Host, Content-Length kept) is part of what is tested.

var sdkCreds = aws.Credentials{AccessKeyID: "AKIAORGSTACKEXAMPLE1", SecretAccessKey: "orgstack/secret+key/EXAMPLE"}

// newVerifyingServer answers 200 with the principal, or 400 with the AWS
// error shape, like the real middleware will.
func newVerifyingServer(t *testing.T) *httptest.Server {
	t.Helper()
	secrets := map[string]string{sdkCreds.AccessKeyID: sdkCreds.SecretAccessKey}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			t.Error(err)
		}
		p, err := authenticate(r, body, secrets)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Errorf("not an *Error: %v", err)
				return
			}
			w.WriteHeader(e.HTTPStatus())
			json.NewEncoder(w).Encode(map[string]string{"__type": e.ErrorCode(), "message": e.ErrorMessage()})
			return
		}
		json.NewEncoder(w).Encode(p)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func authenticate(r *http.Request, body []byte, secrets map[string]string) (Principal, error) {
	sig, err := ParseRequest(r)
	if err != nil {
		return Principal{}, err
	}
	secret, ok := secrets[sig.AccessKeyID]
	if !ok {
		return Principal{}, UnrecognizedClientError()
	}
	if err := Verify(r, body, sig, secret, time.Now(), VerifyOptions{Services: services}); err != nil {
		return Principal{}, err
	}
	return RootPrincipal("123456789012", sig), nil
}

type result struct {
	status  int
	code    string
	message string
	p       Principal
}

func send(t *testing.T, req *http.Request) result {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	res := result{status: resp.StatusCode}
	if resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(&res.p); err != nil {
			t.Fatal(err)
		}
		return res
	}
	var e struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
		t.Fatal(err)
	}
	res.code, res.message = e.Type, e.Message
	return res
}

func hashHex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

const orgTarget = "AWSOrganizationsV20161128.DescribeOrganization"

func newOrgRequest(t *testing.T, url string, body []byte) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", orgTarget)
	return req
}

func TestGoSDKRoundTrip(t *testing.T) {
	srv := newVerifyingServer(t)
	signer := v4.NewSigner()
	ctx := context.Background()
	body := []byte(`{"MaxResults":5}`)
	withToken := sdkCreds
	withToken.SessionToken = "FQoGZXIvYXdzEXAMPLE//session+token=="

	sign := func(t *testing.T, creds aws.Credentials, req *http.Request, payload []byte, at time.Time) {
		t.Helper()
		if err := signer.SignHTTP(ctx, creds, req, hashHex(payload), "organizations", "us-west-2", at); err != nil {
			t.Fatal(err)
		}
	}
	// presign returns a fresh request for the presigned URL, carrying the
	// headers the signer says must travel with it, and payload as body.
	presign := func(t *testing.T, creds aws.Credentials, req *http.Request, payload []byte, payloadHash string, expires int, at time.Time) *http.Request {
		t.Helper()
		q := req.URL.Query()
		q.Set("X-Amz-Expires", strconv.Itoa(expires))
		req.URL.RawQuery = q.Encode()
		uri, hdr, err := signer.PresignHTTP(ctx, creds, req, payloadHash, "sts", "eu-west-1", at)
		if err != nil {
			t.Fatal(err)
		}
		var rd io.Reader
		if payload != nil {
			rd = bytes.NewReader(payload)
		}
		out, err := http.NewRequest(req.Method, uri, rd)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range hdr {
			if k != "Host" {
				out.Header[k] = v
			}
		}
		return out
	}

	tests := []struct {
		name        string
		build       func(t *testing.T) *http.Request
		wantCode    string
		wantMessage string // prefix
		check       func(t *testing.T, p Principal)
	}{
		{
			name: "header",
			build: func(t *testing.T) *http.Request {
				req := newOrgRequest(t, srv.URL, body)
				sign(t, sdkCreds, req, body, time.Now())
				return req
			},
			check: func(t *testing.T, p Principal) {
				if p.AccessKeyID != sdkCreds.AccessKeyID || p.Region != "us-west-2" || p.Service != "organizations" || p.Temporary {
					t.Errorf("principal %+v", p)
				}
			},
		},
		{
			name: "header with session token and content-length",
			build: func(t *testing.T) *http.Request {
				req := newOrgRequest(t, srv.URL, body)
				sign(t, withToken, req, body, time.Now())
				auth := req.Header.Get("Authorization")
				if !strings.Contains(auth, "content-length;") || !strings.Contains(auth, "x-amz-security-token") {
					t.Fatalf("Go did not sign content-length and the token: %s", auth)
				}
				return req
			},
			check: func(t *testing.T, p Principal) {
				if !p.Temporary {
					t.Errorf("principal %+v", p)
				}
			},
		},
		{
			name: "header UNSIGNED-PAYLOAD",
			build: func(t *testing.T) *http.Request {
				req := newOrgRequest(t, srv.URL, body)
				req.Header.Set("X-Amz-Content-Sha256", unsignedPayload)
				if err := signer.SignHTTP(ctx, sdkCreds, req, unsignedPayload, "aco-automation", "us-east-1", time.Now()); err != nil {
					t.Fatal(err)
				}
				return req
			},
		},
		{
			name: "presigned GET with session token",
			build: func(t *testing.T) *http.Request {
				req, _ := http.NewRequest(http.MethodGet, srv.URL+"/?Action=GetCallerIdentity&Version=2011-06-15", nil)
				return presign(t, withToken, req, nil, hashHex(nil), 900, time.Now())
			},
			check: func(t *testing.T, p Principal) {
				if !p.Temporary || p.Service != "sts" || p.Region != "eu-west-1" {
					t.Errorf("principal %+v", p)
				}
			},
		},
		{
			name: "presigned POST with body",
			build: func(t *testing.T) *http.Request {
				req := newOrgRequest(t, srv.URL, body)
				return presign(t, sdkCreds, req, body, hashHex(body), 60, time.Now())
			},
		},
		{
			name: "presigned S3-style UNSIGNED-PAYLOAD",
			build: func(t *testing.T) *http.Request {
				req := newOrgRequest(t, srv.URL, body)
				return presign(t, sdkCreds, req, body, unsignedPayload, 60, time.Now())
			},
		},
		{
			name: "tampered body",
			build: func(t *testing.T) *http.Request {
				req := newOrgRequest(t, srv.URL, body)
				sign(t, sdkCreds, req, body, time.Now())
				tampered := []byte(`{"MaxResults":9}`) // same length, so Content-Length still matches
				req.Body = io.NopCloser(bytes.NewReader(tampered))
				return req
			},
			wantCode: CodeInvalidSignature, wantMessage: msgSignatureMismatch,
		},
		{
			name: "wrong secret",
			build: func(t *testing.T) *http.Request {
				req := newOrgRequest(t, srv.URL, body)
				creds := sdkCreds
				creds.SecretAccessKey += "x"
				// A fresh signer: Go caches derived keys per access key id.
				if err := v4.NewSigner().SignHTTP(ctx, creds, req, hashHex(body), "organizations", "us-west-2", time.Now()); err != nil {
					t.Fatal(err)
				}
				return req
			},
			wantCode: CodeInvalidSignature, wantMessage: msgSignatureMismatch,
		},
		{
			name: "unknown key",
			build: func(t *testing.T) *http.Request {
				req := newOrgRequest(t, srv.URL, body)
				creds := sdkCreds
				creds.AccessKeyID = "AKIAUNKNOWNEXAMPLE00"
				sign(t, creds, req, body, time.Now())
				return req
			},
			wantCode: CodeUnrecognizedClient, wantMessage: msgUnrecognizedClient,
		},
		{
			name: "clock 6 minutes ahead",
			build: func(t *testing.T) *http.Request {
				req := newOrgRequest(t, srv.URL, body)
				sign(t, sdkCreds, req, body, time.Now().Add(6*time.Minute))
				return req
			},
			wantCode: CodeInvalidSignature, wantMessage: "Signature not yet current: ",
		},
		{
			name: "clock 6 minutes behind",
			build: func(t *testing.T) *http.Request {
				req := newOrgRequest(t, srv.URL, body)
				sign(t, sdkCreds, req, body, time.Now().Add(-6*time.Minute))
				return req
			},
			wantCode: CodeInvalidSignature, wantMessage: "Signature expired: ",
		},
		{
			name: "expired presign",
			build: func(t *testing.T) *http.Request {
				req, _ := http.NewRequest(http.MethodGet, srv.URL+"/?Action=GetCallerIdentity&Version=2011-06-15", nil)
				return presign(t, sdkCreds, req, nil, hashHex(nil), 300, time.Now().Add(-6*time.Minute))
			},
			wantCode: CodeInvalidSignature, wantMessage: "Signature expired: ",
		},
		{
			name: "signed header not sent",
			build: func(t *testing.T) *http.Request {
				req := newOrgRequest(t, srv.URL, body)
				req.Header.Set("X-Orgstack-Trace", "abc")
				sign(t, sdkCreds, req, body, time.Now())
				req.Header.Del("X-Orgstack-Trace")
				return req
			},
			wantCode: CodeInvalidSignature, wantMessage: msgSignatureMismatch,
		},
		{
			name:     "no credentials",
			build:    func(t *testing.T) *http.Request { return newOrgRequest(t, srv.URL, body) },
			wantCode: CodeMissingAuthenticationToken, wantMessage: msgMissingAuthenticationToken,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := send(t, tt.build(t))
			if tt.wantCode == "" {
				if res.status != http.StatusOK {
					t.Fatalf("status %d %s: %s", res.status, res.code, res.message)
				}
				if res.p.AccountID != "123456789012" || res.p.ARN != "arn:aws:iam::123456789012:root" {
					t.Errorf("principal %+v", res.p)
				}
				if tt.check != nil {
					tt.check(t, res.p)
				}
				return
			}
			if res.status != http.StatusBadRequest || res.code != tt.wantCode || !strings.HasPrefix(res.message, tt.wantMessage) {
				t.Errorf("got %d %s %q, want 400 %s %q", res.status, res.code, res.message, tt.wantCode, tt.wantMessage)
			}
		})
	}
}
