// Package testkit holds what the process tests of cmd/orgstack and the
// end-to-end tests of internal/e2e share: clients that act as any account
// against a running orgstack, and Check, which reads a whole organization
// through the public API and reports every broken invariant.
//
// Only tests import it; it speaks to orgstack the way users' code does
// (the AWS SDK for Go for Organizations, literal JSON for Automation), so
// it works the same against an in-process server and a separate process.
package testkit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/smithy-go"
)

// Orgs is an Organizations client of the AWS SDK for Go acting as account
// (orgstack's open auth mode takes a 12-digit access key id as the
// account). It never retries: tests that kill servers or race clients
// must see every attempt's own outcome.
func Orgs(endpoint, account string, hc *http.Client) *organizations.Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	next := hc.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	return organizations.NewFromConfig(aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider(account, "orgstack-testkit-secret", ""),
		BaseEndpoint: aws.String(endpoint),
		HTTPClient:   &http.Client{Transport: bufferedBodies{next}, Timeout: hc.Timeout, Jar: hc.Jar},
		Retryer:      func() aws.Retryer { return aws.NopRetryer{} },
	})
}

// bufferedBodies hands net/http every request body as an in-memory reader.
//
// The SDK wraps a request body in a reader that it closes as soon as the
// response has arrived. net/http writes a body of unknown kind straight
// to the socket and reads it once more afterwards to check its length;
// against a server as quick as orgstack on the same machine the response
// can arrive in between, the check then meets the closed body (io.EOF
// from its WriteTo), the write fails and net/http closes the connection
// while the SDK is still reading a response longer than its 4 KiB read
// buffer: "deserialization failed ... use of closed network connection"
// for a request the server did answer (about 1 ListAccounts in 2,000 of
// 17 accounts). With the default retryer the SDK would silently send such
// a request again; the testkit clients never retry, so they must never
// see this. A body in memory is written and checked before anything is
// sent.
type bufferedBodies struct{ next http.RoundTripper }

func (b bufferedBodies) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return b.next.RoundTrip(r)
	}
	body, err := io.ReadAll(r.Body)
	r.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("testkit: reading the request body: %w", err)
	}
	r = r.Clone(r.Context())
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	return b.next.RoundTrip(r)
}

// ErrNoResponse marks a call that got no complete answer: the connection
// failed or the server went away before the whole response arrived.
var ErrNoResponse = errors.New("no response")

// NoResponse reports whether err says that a call got no complete answer,
// from the SDK or from Automation.Call, rather than an error response.
// Such a call may or may not have been applied.
func NoResponse(err error) bool {
	if err == nil {
		return false
	}
	var api smithy.APIError
	var bad *MalformedResponseError
	return errors.Is(err, ErrNoResponse) || !errors.As(err, &api) && !errors.As(err, &bad)
}

// MalformedResponseError is a complete Automation answer that is not a
// JSON object.
type MalformedResponseError struct {
	Op     string
	Status int
	Body   []byte
}

func (e *MalformedResponseError) Error() string {
	return fmt.Sprintf("%s: %d answer is not a JSON object: %q", e.Op, e.Status, e.Body)
}

// ServerFault reports whether err is an error response whose fault the
// service declares its own (ServiceException, InternalServerException and
// the like), which no request should ever cause.
func ServerFault(err error) bool {
	var api smithy.APIError
	return errors.As(err, &api) && api.ErrorFault() == smithy.FaultServer
}

// ErrorCode is the error code of an SDK error response, "" for nil and for
// errors that are no error response.
func ErrorCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

// AutomationTarget is the awsJson 1.0 X-Amz-Target prefix of Compute
// Optimizer Automation.
const AutomationTarget = "ComputeOptimizerAutomationService."

// Automation calls Compute Optimizer Automation over awsJson 1.0 with
// literal JSON bodies, as any HTTP client could.
type Automation struct {
	Endpoint string
	HTTP     *http.Client // nil: http.DefaultClient
}

// Response is a decoded Automation answer.
type Response struct {
	Status int
	Body   map[string]any
}

// OK reports whether the call succeeded.
func (r Response) OK() bool { return r.Status == http.StatusOK }

// Err is nil for a success, else the error response as a smithy-go
// APIError, so that NoResponse, ServerFault and ErrorCode judge SDK and
// Automation calls alike.
func (r Response) Err() error {
	if r.OK() {
		return nil
	}
	fault := smithy.FaultClient
	if r.Status >= 500 {
		fault = smithy.FaultServer
	}
	msg, _ := r.Body["message"].(string)
	return &smithy.GenericAPIError{Code: r.Code(), Message: fmt.Sprintf("%d %s", r.Status, msg), Fault: fault}
}

// Code is the short error code of an error response, "" on success.
func (r Response) Code() string {
	s, _ := r.Body["__type"].(string)
	return s[strings.LastIndexByte(s, '#')+1:]
}

// Str, Num and List read members of the body.
func (r Response) Str(k string) string { s, _ := r.Body[k].(string); return s }
func (r Response) Num(k string) int64  { f, _ := r.Body[k].(float64); return int64(f) }
func (r Response) List(k string) []any { l, _ := r.Body[k].([]any); return l }

// Strings reads a list member of strings.
func (r Response) Strings(k string) []string {
	var out []string
	for _, x := range r.List(k) {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

// Call sends op as account with in (nil: an empty object) encoded as JSON.
// The error wraps ErrNoResponse when no complete answer arrived, and is a
// *MalformedResponseError when the answer is not a JSON object.
func (a Automation) Call(ctx context.Context, account, op string, in any) (Response, error) {
	body := []byte("{}")
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return Response{}, fmt.Errorf("encode %s input: %w", op, err)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.Endpoint+"/", bytes.NewReader(body))
	if err != nil {
		return Response{}, err
	}
	now := time.Now().UTC()
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", AutomationTarget+op)
	req.Header.Set("X-Amz-Date", now.Format("20060102T150405Z"))
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+account+"/"+now.Format("20060102")+
		"/us-east-1/aco-automation/aws4_request, SignedHeaders=host;x-amz-date, Signature="+strings.Repeat("0", 64))
	hc := a.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return Response{}, fmt.Errorf("%s: %w: %v", op, ErrNoResponse, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return Response{}, fmt.Errorf("%s: %w: reading the body: %v", op, ErrNoResponse, err)
	}
	r := Response{Status: resp.StatusCode, Body: map[string]any{}}
	if len(b) > 0 {
		if err := json.Unmarshal(b, &r.Body); err != nil {
			return r, &MalformedResponseError{Op: op, Status: resp.StatusCode, Body: b}
		}
	}
	return r, nil
}

// Admin sends a JSON request to orgstack's admin API and decodes the JSON
// answer (nil when empty). A status other than 2xx is an error.
func Admin(ctx context.Context, hc *http.Client, endpoint, method, path string, in any) (map[string]any, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, endpoint+path, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w: %v", method, path, ErrNoResponse, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w: reading the body: %v", method, path, ErrNoResponse, err)
	}
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, b)
	}
	var out map[string]any
	if len(b) > 0 {
		if err := json.Unmarshal(b, &out); err != nil {
			return nil, fmt.Errorf("%s %s: answer is not JSON: %q", method, path, b)
		}
	}
	return out, nil
}
