package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	smithycbor "github.com/aws/smithy-go/encoding/cbor"

	"github.com/orgstack/orgstack/internal/app"
	"github.com/orgstack/orgstack/internal/server"
	"github.com/orgstack/orgstack/internal/store/testengine"
)

const testAdminToken = "test-admin-token-0123456789"

// newSigV4Env starts an orgstack with --auth sigv4 and testAdminToken.
func newSigV4Env(t testing.TB) *env { return newSigV4EnvWith(t, nil) }

// newSigV4EnvWith is newSigV4Env logging to log (nowhere when nil).
func newSigV4EnvWith(t testing.TB, log *slog.Logger) *env {
	t.Helper()
	ctx := context.Background()
	st := testengine.Open(t)
	a, err := app.New(ctx, st, app.Config{Version: "test", Auth: server.AuthSigV4, AdminToken: testAdminToken, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close) // before the store closes
	hs := httptest.NewServer(a.Handler())
	t.Cleanup(hs.Close)
	return &env{URL: hs.URL, Store: st, Clock: a.Clock, App: a}
}

// adminAs is adminDo with the bearer token of a sigv4 server.
func (e *env) adminAs(t testing.TB, token, method, path, body string) (int, []byte) {
	t.Helper()
	h := map[string]string{"Content-Type": "application/json"}
	if token != "" {
		h["Authorization"] = "Bearer " + token
	}
	c := e.do(t, method, path, h, []byte(body))
	return c.status, c.body
}

// registerSigned registers an account on a sigv4 server and returns its
// static credentials.
func (e *env) registerSigned(t testing.TB, body string) (string, aws.Credentials) {
	t.Helper()
	status, b := e.adminAs(t, testAdminToken, "POST", "/_orgstack/accounts", body)
	if status != http.StatusCreated {
		t.Fatalf("register: %d %s", status, b)
	}
	var m map[string]string
	mustUnmarshal(t, b, &m)
	return m["accountId"], aws.Credentials{AccessKeyID: m["accessKeyId"], SecretAccessKey: m["secretAccessKey"]}
}

// configWith is an SDK configuration with the given credentials.
func (e *env) configWith(c aws.Credentials) aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken),
		BaseEndpoint: aws.String(e.URL),
		HTTPClient:   http.DefaultClient,
		// The server's answers to bad signatures are what we test; the
		// SDK's retries would only repeat them.
		RetryMaxAttempts: 1,
	}
}

func apiCode(t *testing.T, err error) string {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v is not an API error", err)
	}
	return ae.ErrorCode()
}

func TestSigV4GoSDK(t *testing.T) {
	t.Parallel()
	e := newSigV4Env(t)
	ctx := context.Background()
	acct, creds := e.registerSigned(t, "")

	orgs := organizations.NewFromConfig(e.configWith(creds))
	out, err := orgs.CreateOrganization(ctx, &organizations.CreateOrganizationInput{})
	if err != nil {
		t.Fatalf("CreateOrganization with registered credentials: %v", err)
	}
	if got := aws.ToString(out.Organization.MasterAccountId); got != acct {
		t.Fatalf("management account %s, want %s", got, acct)
	}

	wrong := creds
	wrong.SecretAccessKey = strings.Repeat("x", 40)
	unknown := aws.Credentials{AccessKeyID: "AKIAAAAAAAAAAAAAAAAA", SecretAccessKey: creds.SecretAccessKey}
	twelve := aws.Credentials{AccessKeyID: acct, SecretAccessKey: "anything"} // open mode's convention is off
	for _, tc := range []struct {
		name  string
		creds aws.Credentials
		want  string
	}{
		{"wrong secret", wrong, "InvalidSignatureException"},
		{"unknown key", unknown, "UnrecognizedClientException"},
		{"12-digit key", twelve, "UnrecognizedClientException"},
		{"session token on a long-term key", aws.Credentials{AccessKeyID: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey, SessionToken: "forged"}, "UnrecognizedClientException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := organizations.NewFromConfig(e.configWith(tc.creds)).DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
			if err == nil {
				t.Fatal("accepted")
			}
			if got := apiCode(t, err); got != tc.want {
				t.Errorf("code %s, want %s (%v)", got, tc.want, err)
			}
		})
	}
}

// signed builds a request signed by the Go SDK's signer at signTime.
func signed(t *testing.T, e *env, creds aws.Credentials, service string, header map[string]string, body []byte, signTime time.Time) *http.Request {
	t.Helper()
	return signedRequest(t, e.URL, creds, service, header, body, signTime)
}

// signedRequest is a POST to url signed by the Go SDK's signer at signTime.
func signedRequest(t testing.TB, url string, creds aws.Credentials, service string, header map[string]string, body []byte, signTime time.Time) *http.Request {
	t.Helper()
	req, err := http.NewRequest("POST", url+"/", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), service, "us-east-1", signTime); err != nil {
		t.Fatal(err)
	}
	return req
}

func send(t *testing.T, req *http.Request) rawCall {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return rawCall{status: resp.StatusCode, header: resp.Header, body: b}
}

func TestSigV4RawFailures(t *testing.T) {
	t.Parallel()
	e := newSigV4Env(t)
	_, creds := e.registerSigned(t, "")
	jsonHeader := map[string]string{
		"Content-Type": "application/x-amz-json-1.1",
		"X-Amz-Target": "AWSOrganizationsV20161128.DescribeOrganization",
	}
	now := time.Now()

	t.Run("right signature", func(t *testing.T) {
		c := send(t, signed(t, e, creds, "organizations", jsonHeader, []byte("{}"), now))
		if got := decodeJSONBody(t, c)["__type"]; c.status != 400 || got != "AWSOrganizationsNotInUseException" {
			t.Fatalf("%d %s", c.status, c.body) // authenticated: the domain answered
		}
	})
	t.Run("tampered body", func(t *testing.T) {
		req := signed(t, e, creds, "organizations", jsonHeader, []byte("{}"), now)
		req.Body = io.NopCloser(strings.NewReader(`{"x":1}`))
		req.ContentLength = 7
		c := send(t, req)
		body := decodeJSONBody(t, c)
		if c.status != 400 || body["__type"] != "InvalidSignatureException" ||
			!strings.HasPrefix(errMessage(body), "The request signature we calculated does not match") {
			t.Fatalf("%d %s", c.status, c.body)
		}
	})
	t.Run("missing signature", func(t *testing.T) {
		c := e.do(t, "POST", "/", jsonHeader, []byte("{}"))
		body := decodeJSONBody(t, c)
		if c.status != 400 || body["__type"] != "MissingAuthenticationTokenException" || errMessage(body) != "Request is missing Authentication Token" {
			t.Fatalf("%d %s", c.status, c.body)
		}
	})
	t.Run("skewed clock", func(t *testing.T) {
		c := send(t, signed(t, e, creds, "organizations", jsonHeader, []byte("{}"), now.Add(-20*time.Minute)))
		body := decodeJSONBody(t, c)
		if c.status != 400 || body["__type"] != "InvalidSignatureException" || !strings.HasPrefix(errMessage(body), "Signature expired: ") {
			t.Fatalf("%d %s", c.status, c.body)
		}
	})
	t.Run("future clock", func(t *testing.T) {
		c := send(t, signed(t, e, creds, "organizations", jsonHeader, []byte("{}"), now.Add(20*time.Minute)))
		body := decodeJSONBody(t, c)
		if c.status != 400 || !strings.HasPrefix(errMessage(body), "Signature not yet current: ") {
			t.Fatalf("%d %s", c.status, c.body)
		}
	})
	t.Run("wrong service in scope", func(t *testing.T) {
		c := send(t, signed(t, e, creds, "aco-automation", jsonHeader, []byte("{}"), now))
		body := decodeJSONBody(t, c)
		if c.status != 400 || body["__type"] != "InvalidSignatureException" || !strings.Contains(errMessage(body), "'organizations'") {
			t.Fatalf("%d %s", c.status, c.body)
		}
	})
	t.Run("malformed header", func(t *testing.T) {
		h := map[string]string{"Authorization": "AWS4-HMAC-SHA256 Credential=" + creds.AccessKeyID}
		for k, v := range jsonHeader {
			h[k] = v
		}
		c := e.do(t, "POST", "/", h, []byte("{}"))
		if body := decodeJSONBody(t, c); c.status != 400 || body["__type"] != "IncompleteSignatureException" {
			t.Fatalf("%d %s", c.status, c.body)
		}
	})
	t.Run("virtual clock far ahead", func(t *testing.T) {
		// Request times are checked against the real clock, never the
		// virtual one: a test may move time by days and keep signing.
		e.Clock.Set(now.Add(30 * 24 * time.Hour))
		c := send(t, signed(t, e, creds, "organizations", jsonHeader, []byte("{}"), time.Now()))
		if got := decodeJSONBody(t, c)["__type"]; got != "AWSOrganizationsNotInUseException" {
			t.Fatalf("%d %s", c.status, c.body)
		}
	})
	t.Run("over CBOR", func(t *testing.T) {
		h := map[string]string{"Smithy-Protocol": "rpc-v2-cbor", "Accept": "application/cbor", "Content-Type": "application/cbor"}
		body := smithycbor.Encode(smithycbor.Map{})
		req := signed(t, e, aws.Credentials{AccessKeyID: creds.AccessKeyID, SecretAccessKey: "wrong"}, "aco-automation", h, body, now)
		req.URL.Path = "/service/ComputeOptimizerAutomationService/operation/GetEnrollmentConfiguration"
		// Re-sign for the path; the wrong secret is the failure under test.
		sum := sha256.Sum256(body)
		req.Header.Del("Authorization")
		if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: creds.AccessKeyID, SecretAccessKey: "wrong"},
			req, hex.EncodeToString(sum[:]), "aco-automation", "us-east-1", now); err != nil {
			t.Fatal(err)
		}
		c := send(t, req)
		if c.header.Get("Smithy-Protocol") != "rpc-v2-cbor" {
			t.Errorf("no Smithy-Protocol header on the auth failure: %v", c.header)
		}
		if got := decodeCBORBody(t, c)["__type"]; c.status != 400 || !strings.HasSuffix(got.(string), "InvalidSignatureException") {
			t.Fatalf("%d %v", c.status, got)
		}
	})
}

func TestSigV4AdminGuard(t *testing.T) {
	t.Parallel()
	e := newSigV4Env(t)
	for _, tc := range []struct{ method, path, body string }{
		{"POST", "/_orgstack/accounts", `{"accountId":"555555555555"}`},
		{"GET", "/_orgstack/accounts", ""},
		{"POST", "/_orgstack/clock", `{"advance":"1h"}`},
		{"POST", "/_orgstack/reset", ""},
		{"POST", "/moto-api/reset", ""},
		{"POST", "/_localstack/state/reset", ""},
	} {
		for _, token := range []string{"", "wrong-token"} {
			status, body := e.adminAs(t, token, tc.method, tc.path, tc.body)
			if status != http.StatusUnauthorized {
				t.Errorf("%s %s with token %q = %d %s, want 401", tc.method, tc.path, token, status, body)
			}
		}
	}
	// Nothing happened: no account, and the clock did not move.
	if status, body := e.adminAs(t, testAdminToken, "GET", "/_orgstack/accounts/555555555555", ""); status != 404 {
		t.Errorf("account created without the token: %d %s", status, body)
	}
	if st := e.Clock.State(); st.Mode != "real" {
		t.Errorf("clock changed without the token: %+v", st)
	}
	// Health stays open; with the token everything works.
	if status, _ := e.adminAs(t, "", "GET", "/_orgstack/health", ""); status != 200 {
		t.Errorf("health = %d", status)
	}
	if status, body := e.adminAs(t, testAdminToken, "POST", "/_orgstack/accounts", `{"accountId":"555555555555"}`); status != 201 {
		t.Errorf("with the token: %d %s", status, body)
	}
}

func TestSigV4OverCBORWithGoSDKCredentials(t *testing.T) {
	t.Parallel()
	e := newSigV4Env(t)
	_, creds := e.registerSigned(t, "")
	h := map[string]string{"Smithy-Protocol": "rpc-v2-cbor", "Accept": "application/cbor", "Content-Type": "application/cbor"}
	body := smithycbor.Encode(smithycbor.Map{})
	req := signed(t, e, creds, "aco-automation", h, body, time.Now())
	req.URL.Path = "/service/ComputeOptimizerAutomationService/operation/GetEnrollmentConfiguration"
	req.Header.Del("Authorization")
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "aco-automation", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	if c := send(t, req); c.status != 200 {
		t.Fatalf("right credentials over CBOR: %d %v", c.status, decodeCBORBody(t, c))
	}
}

// errMessage reads an awsJson error's message, which awsJson 1.1 services
// call Message and 1.0 services message.
func errMessage(body map[string]any) string {
	for _, k := range []string{"message", "Message"} {
		if m, ok := body[k].(string); ok {
			return m
		}
	}
	return ""
}

func mustUnmarshal(t testing.TB, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("not JSON: %v: %q", err, b)
	}
}

// syncBuffer is a bytes.Buffer the server's goroutines may log into.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestSecretsNeverLogged(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	e := newSigV4EnvWith(t, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	ctx := context.Background()
	mgmt, creds := e.registerSigned(t, "")
	member, _ := e.registerSigned(t, "")
	e.putRole(t, testAdminToken, member, mgmt, "")
	session := assumeRole(t, e.stsWith(creds), "arn:aws:iam::"+member+":role/OrganizationAccountAccessRole", "s1", 0)
	organizations.NewFromConfig(e.configWith(session)).DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	bad := session
	bad.SecretAccessKey = "wrong"
	organizations.NewFromConfig(e.configWith(bad)).DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	e.adminAs(t, "wrong-token", "GET", "/_orgstack/accounts", "")

	out := logs.String()
	for name, secret := range map[string]string{
		"root secret": creds.SecretAccessKey, "session secret": session.SecretAccessKey,
		"session token": session.SessionToken, "admin token": testAdminToken,
	} {
		if strings.Contains(out, secret) {
			t.Errorf("the %s is in the log", name)
		}
	}
	// The access log does name the key and the account.
	if !strings.Contains(out, "access_key_id="+session.AccessKeyID) || !strings.Contains(out, "account="+member) {
		t.Errorf("the access log lacks the key id or account:\n%s", out)
	}
}

func TestAccessLogNamesRefusedKeys(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	e := newSigV4EnvWith(t, slog.New(slog.NewTextHandler(&logs, nil)))
	_, creds := e.registerSigned(t, "")
	bad := creds
	bad.SecretAccessKey = "wrong"
	organizations.NewFromConfig(e.configWith(bad)).DescribeOrganization(context.Background(), &organizations.DescribeOrganizationInput{})
	e.stsWith(bad).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	out := logs.String()
	for _, op := range []string{"operation=DescribeOrganization", "operation=GetCallerIdentity"} {
		line := ""
		for _, l := range strings.Split(out, "\n") {
			if strings.Contains(l, op) {
				line = l
			}
		}
		if !strings.Contains(line, "access_key_id="+creds.AccessKeyID) || !strings.Contains(line, "status=") || strings.Contains(line, "wrong") {
			t.Errorf("access log line for %s: %q", op, line)
		}
	}
}
