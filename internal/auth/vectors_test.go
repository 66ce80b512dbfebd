package auth

import (
	"bufio"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The AWS Signature Version 4 test suite (see testdata/aws4_testsuite/README.md).
const (
	suiteAccessKey = "AKIDEXAMPLE"
	suiteSecret    = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
)

var (
	suiteTime     = time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC)
	botocore2011T = time.Date(2011, 9, 9, 23, 36, 0, 0, time.UTC)
)

// vector is one signed request of the suite, in header or presigned form.
type vector struct {
	name       string
	raw        string // request as in the file, for failure messages
	req        *http.Request
	path       string // request-line path, fed to the canonicaliser as is
	body       []byte
	secret     string
	now        time.Time
	normalize  bool   // the suite case expects a normalised path
	wantCreq   string // optional
	wantSTS    string // optional
	wantToken  string // optional
	authHeader string // for .authz comparisons (botocore cases)
}

// parseSuiteRequest reads the suite's request format: a request line, header
// lines, a blank line, the body. As in the suite, a line that starts with
// whitespace continues the previous header as another value (this is how
// get-header-value-multiline expects "value1,value2,value3").
func parseSuiteRequest(t *testing.T, text string) (*http.Request, string, []byte) {
	t.Helper()
	head, body, _ := strings.Cut(text, "\n\n")
	sc := bufio.NewScanner(strings.NewReader(head))
	sc.Scan()
	method, rest, _ := strings.Cut(sc.Text(), " ")
	target := rest[:strings.LastIndex(rest, " ")] // drop " HTTP/1.1"
	path, rawQuery, _ := strings.Cut(target, "?")

	r := &http.Request{Method: method, URL: &url.URL{Path: path, RawQuery: rawQuery}, Header: http.Header{}}
	var last string
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			r.Header.Add(last, line)
			continue
		}
		name, value, _ := strings.Cut(line, ":")
		last = name
		// Go's server moves Host out of the header map; do the same.
		if strings.EqualFold(name, "host") {
			r.Host = value
			continue
		}
		r.Header.Add(name, value)
	}
	return r, path, []byte(body)
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func readOptional(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// loadVectors collects every vector under testdata/aws4_testsuite.
func loadVectors(t *testing.T) []vector {
	t.Helper()
	var vs []vector

	// awslabs/aws-c-auth v4 suite: a directory per case, header and/or
	// query (presigned) form.
	dirs, err := filepath.Glob("testdata/aws4_testsuite/v4/*")
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range dirs {
		name := filepath.Base(dir)
		var token string
		if ctx := readOptional(t, filepath.Join(dir, "context.json")); ctx != "" {
			var c struct {
				Credentials struct{ Token string } `json:"credentials"`
			}
			if err := json.Unmarshal([]byte(ctx), &c); err != nil {
				t.Fatal(err)
			}
			token = c.Credentials.Token
		}
		for _, form := range []string{"header", "query"} {
			raw := readOptional(t, filepath.Join(dir, form+"-signed-request.txt"))
			if raw == "" {
				continue
			}
			req, path, body := parseSuiteRequest(t, raw)
			v := vector{
				name: "aws-c-auth/" + name + "/" + form, raw: raw, req: req, path: path, body: body,
				secret: suiteSecret, now: suiteTime,
				normalize: !strings.HasSuffix(name, "-unnormalized"),
				wantCreq:  readOptional(t, filepath.Join(dir, form+"-canonical-request.txt")),
				wantSTS:   readOptional(t, filepath.Join(dir, form+"-string-to-sign.txt")),
			}
			if form == "header" {
				v.wantToken = token
			}
			vs = append(vs, v)
		}
	}

	// botocore's copies of the 2011 suite (Date header, service "host").
	reqs, err := filepath.Glob("testdata/aws4_testsuite/botocore/*.req")
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range reqs {
		base := strings.TrimSuffix(file, ".req")
		raw := readFile(t, file)
		req, path, body := parseSuiteRequest(t, raw)
		authz := readFile(t, base+".authz")
		req.Header.Set("Authorization", authz)
		vs = append(vs, vector{
			name: "botocore/" + filepath.Base(base), raw: raw, req: req, path: path, body: body,
			secret: suiteSecret, now: botocore2011T, normalize: true,
			wantCreq: readFile(t, base+".creq"), wantSTS: readFile(t, base+".sts"), authHeader: authz,
		})
	}

	// aws-sdk-js-v3's transcription of the 2015 suite.
	var js struct {
		Cases []struct {
			Name, Method, Path, Query, Body, Authorization string
			Headers                                        [][2]string
		}
	}
	if err := json.Unmarshal([]byte(readFile(t, "testdata/aws4_testsuite/aws-sdk-js-v3/suite.json")), &js); err != nil {
		t.Fatal(err)
	}
	for _, c := range js.Cases {
		req := &http.Request{Method: c.Method, URL: &url.URL{Path: c.Path, RawQuery: c.Query}, Header: http.Header{}}
		for _, h := range c.Headers {
			if h[0] == "host" {
				req.Host = h[1]
				continue
			}
			req.Header.Add(h[0], h[1])
		}
		req.Header.Set("Authorization", c.Authorization)
		vs = append(vs, vector{
			name: "aws-sdk-js-v3/" + c.Name, raw: c.Method + " " + c.Path + "?" + c.Query, req: req, path: c.Path,
			body: []byte(c.Body), secret: suiteSecret, now: suiteTime, normalize: true,
		})
	}
	return vs
}

// canonicalFor builds the canonical request the way a signer would, with the
// payload rule of Verify, to compare against the suite's files.
func canonicalFor(t *testing.T, v vector, sig *Signature) string {
	t.Helper()
	headers, err := CanonicalHeaders(v.req, sig.SignedHeaders)
	if err != nil {
		t.Fatal(err)
	}
	payload, _, err := payloadHashes(v.req, v.body, sig)
	if err != nil {
		t.Fatal(err)
	}
	return CanonicalRequest(v.req.Method, CanonicalURI(v.path, v.normalize),
		CanonicalQuery(v.req.URL.RawQuery, sig.Presigned), headers, sig.SignedHeaders, payload)
}

func TestSuiteVectors(t *testing.T) {
	vs := loadVectors(t)
	if len(vs) < 15 {
		t.Fatalf("only %d vectors loaded", len(vs))
	}
	t.Logf("%d vectors", len(vs))
	for _, v := range vs {
		t.Run(v.name, func(t *testing.T) {
			sig, err := ParseRequest(v.req)
			if err != nil {
				t.Fatalf("ParseRequest: %v\n%s", err, v.raw)
			}
			if sig.AccessKeyID != suiteAccessKey || sig.Region != "us-east-1" {
				t.Errorf("credential = %s/%s", sig.AccessKeyID, sig.Region)
			}
			if v.wantToken != "" && sig.SecurityToken != v.wantToken {
				t.Errorf("SecurityToken = %q, want %q", sig.SecurityToken, v.wantToken)
			}

			creq := canonicalFor(t, v, sig)
			if v.wantCreq != "" && creq != v.wantCreq {
				t.Errorf("canonical request:\n%s\nwant:\n%s", creq, v.wantCreq)
			}
			sts := StringToSign(sig.AmzDate, sig.Scope(), creq)
			if v.wantSTS != "" && sts != v.wantSTS {
				t.Errorf("string to sign:\n%s\nwant:\n%s", sts, v.wantSTS)
			}
			// The signature pins the canonical request byte for byte, also
			// for the cases whose .creq/.sts were not kept upstream.
			if got := SignatureHex(SigningKey(v.secret, sig.Date, sig.Region, sig.Service), sts); got != sig.Signature {
				t.Errorf("signature = %s, want %s\ncanonical request:\n%s", got, sig.Signature, creq)
			}

			if err := verifyPath(v.req, v.path, v.body, sig, v.secret, v.now, VerifyOptions{}); err != nil {
				t.Fatalf("Verify: %v", err)
			}

			// Tampering with anything signed must fail, and always with
			// the same code and message.
			tampered := map[string]func() error{
				"secret": func() error {
					return verifyPath(v.req, v.path, v.body, sig, v.secret+"x", v.now, VerifyOptions{})
				},
				"body": func() error {
					return verifyPath(v.req, v.path, append([]byte("x"), v.body...), sig, v.secret, v.now, VerifyOptions{})
				},
				"host": func() error {
					r := v.req.Clone(t.Context())
					r.Host = "evil." + r.Host
					return verifyPath(r, v.path, v.body, sig, v.secret, v.now, VerifyOptions{})
				},
				"path": func() error {
					return verifyPath(v.req, v.path+"x", v.body, sig, v.secret, v.now, VerifyOptions{})
				},
			}
			for what, f := range tampered {
				assertCode(t, "tampered "+what, f(), CodeInvalidSignature, msgSignatureMismatch)
			}
		})
	}
}

func assertCode(t *testing.T, what string, err error, code, message string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Errorf("%s: error %v, want %s", what, err, code)
		return
	}
	if e.Code != code || (message != "" && e.Message != message) || e.Status != http.StatusBadRequest {
		t.Errorf("%s: got %s %d %q, want %s 400 %q", what, e.Code, e.Status, e.Message, code, message)
	}
}
