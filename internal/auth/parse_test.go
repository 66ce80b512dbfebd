package auth

import (
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
)

func newRequest(t *testing.T, method, target string, headers map[string]string) *http.Request {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	r := &http.Request{Method: method, URL: u, Host: "localhost:4566", Header: http.Header{}}
	for k, v := range headers {
		r.Header.Set(k, v)
	}
	return r
}

const goodAuth = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/organizations/aws4_request, " +
	"SignedHeaders=host;x-amz-date, Signature=abc"

func TestParseRequestHeader(t *testing.T) {
	tests := []struct {
		name    string
		headers map[string]string
		want    Signature
	}{
		{
			name:    "sdk form",
			headers: map[string]string{"Authorization": goodAuth, "X-Amz-Date": "20150830T123600Z"},
			want: Signature{Algorithm: Algorithm, AccessKeyID: "AKIDEXAMPLE", Date: "20150830", Region: "us-east-1",
				Service: "organizations", Terminator: "aws4_request", SignedHeaders: []string{"host", "x-amz-date"},
				Signature: "abc", Time: suiteTime, AmzDate: "20150830T123600Z"},
		},
		{
			name: "any order, no spaces, upper-case and unsorted header names, Date header, token",
			headers: map[string]string{
				"Authorization":        "AWS4-HMAC-SHA256 Signature=abc,SignedHeaders=X-Amz-Date;Host;date,Credential=123456789012/20150830/eu-west-1/sts/aws4_request",
				"Date":                 "Sun, 30 Aug 2015 12:36:00 GMT",
				"X-Amz-Security-Token": "tok",
			},
			want: Signature{Algorithm: Algorithm, AccessKeyID: "123456789012", Date: "20150830", Region: "eu-west-1",
				Service: "sts", Terminator: "aws4_request", SignedHeaders: []string{"date", "host", "x-amz-date"},
				Signature: "abc", Time: suiteTime, AmzDate: "20150830T123600Z", SecurityToken: "tok"},
		},
		{
			name: "unparsable X-Amz-Date falls back to Date",
			headers: map[string]string{"Authorization": goodAuth, "X-Amz-Date": "yesterday",
				"Date": "Sun, 30 Aug 2015 12:36:00 GMT"},
			want: Signature{Algorithm: Algorithm, AccessKeyID: "AKIDEXAMPLE", Date: "20150830", Region: "us-east-1",
				Service: "organizations", Terminator: "aws4_request", SignedHeaders: []string{"host", "x-amz-date"},
				Signature: "abc", Time: suiteTime, AmzDate: "20150830T123600Z"},
		},
		{
			name: "SigV4a: four-part scope, region from X-Amz-Region-Set",
			headers: map[string]string{"X-Amz-Date": "20150830T123600Z", "X-Amz-Region-Set": "*",
				"Authorization": "AWS4-ECDSA-P256-SHA256 Credential=AKID/20150830/organizations/aws4_request, SignedHeaders=host, Signature=00"},
			want: Signature{Algorithm: algorithmV4A, AccessKeyID: "AKID", Date: "20150830", Region: "*",
				Service: "organizations", Terminator: "aws4_request", SignedHeaders: []string{"host"},
				Signature: "00", Time: suiteTime, AmzDate: "20150830T123600Z"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sig, err := ParseRequest(newRequest(t, "POST", "/", tt.headers))
			if err != nil {
				t.Fatal(err)
			}
			if !equalSignature(*sig, tt.want) {
				t.Errorf("got  %+v\nwant %+v", *sig, tt.want)
			}
		})
	}
}

func equalSignature(a, b Signature) bool {
	return reflect.DeepEqual(a, b)
}

func TestParseRequestErrors(t *testing.T) {
	const date = "20150830T123600Z"
	tests := []struct {
		name    string
		target  string
		headers map[string]string
		code    string
		message string
	}{
		{
			name: "nothing", target: "/", code: CodeMissingAuthenticationToken,
			message: "Request is missing Authentication Token",
		},
		{
			name: "unrelated X-Amz query", target: "/?X-Amz-Foo=1", code: CodeMissingAuthenticationToken,
			message: "Request is missing Authentication Token",
		},
		{
			name: "bearer token", target: "/", headers: map[string]string{"Authorization": "Bearer eyJ"},
			code: CodeIncompleteSignature,
			message: "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. " +
				"Authorization header requires 'SignedHeaders' parameter. Authorization header requires existence of either " +
				"a 'X-Amz-Date' or a 'Date' header. Authorization=Bearer eyJ",
		},
		{
			name: "empty header", target: "/", headers: map[string]string{"Authorization": "", "X-Amz-Date": date},
			code: CodeIncompleteSignature,
			message: "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. " +
				"Authorization header requires 'SignedHeaders' parameter. Authorization=",
		},
		{
			name: "no date", target: "/", headers: map[string]string{"Authorization": goodAuth},
			code:    CodeIncompleteSignature,
			message: "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=" + goodAuth,
		},
		{
			name: "short credential", target: "/", code: CodeIncompleteSignature,
			headers: map[string]string{"X-Amz-Date": date,
				"Authorization": "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/aws4_request, SignedHeaders=host, Signature=00"},
			message: "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got 'AKID/20150830/us-east-1/aws4_request'",
		},
		{
			name: "presigned, missing parameters", target: "/?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=" + date,
			code: CodeIncompleteSignature,
			message: "AWS query-string parameters must include 'X-Amz-Credential'. AWS query-string parameters must include " +
				"'X-Amz-Signature'. AWS query-string parameters must include 'X-Amz-SignedHeaders'. Re-examine the query-string parameters.",
		},
		{
			name: "presigned, bad date", target: presignedQuery("X-Amz-Date=2015-08-30"), code: CodeIncompleteSignature,
			message: "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"",
		},
		{
			name: "presigned, expires not a number", target: presignedQuery("X-Amz-Expires=soon"), code: CodeIncompleteSignature,
			message: "X-Amz-Expires should be a number",
		},
		{
			name: "presigned, negative expires", target: presignedQuery("X-Amz-Expires=-1"), code: CodeIncompleteSignature,
			message: "X-Amz-Expires must be non-negative",
		},
		{
			name: "presigned, more than a week", target: presignedQuery("X-Amz-Expires=604801"), code: CodeIncompleteSignature,
			message: "X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sig, err := ParseRequest(newRequest(t, "GET", tt.target, tt.headers))
			if sig != nil {
				t.Errorf("got a signature: %+v", sig)
			}
			assertCode(t, tt.name, err, tt.code, tt.message)
		})
	}
}

// presignedQuery is a complete presigned query with one parameter replaced.
func presignedQuery(override string) string {
	q := url.Values{
		"X-Amz-Algorithm":     {Algorithm},
		"X-Amz-Credential":    {"AKID/20150830/us-east-1/sts/aws4_request"},
		"X-Amz-Date":          {"20150830T123600Z"},
		"X-Amz-Expires":       {"60"},
		"X-Amz-SignedHeaders": {"host"},
		"X-Amz-Signature":     {"00"},
	}
	k, v, _ := strings.Cut(override, "=")
	q.Set(k, v)
	return "/?" + q.Encode()
}

func TestParsePresignedDefaults(t *testing.T) {
	q := url.Values{
		"X-Amz-Algorithm":      {Algorithm},
		"X-Amz-Credential":     {"AKID/20150830/us-east-1/sts/aws4_request"},
		"X-Amz-Date":           {"20150830T123600Z"},
		"X-Amz-SignedHeaders":  {"host"},
		"X-Amz-Signature":      {"00"},
		"X-Amz-Security-Token": {"tok"},
	}
	sig, err := ParseRequest(newRequest(t, "GET", "/?"+q.Encode(), nil))
	if err != nil {
		t.Fatal(err)
	}
	if !sig.Presigned || sig.Expires != 15*time.Minute || sig.SecurityToken != "tok" || sig.Service != "sts" {
		t.Errorf("%+v", sig)
	}
}
