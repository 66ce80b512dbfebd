package auth

import (
	"net/http"
	"net/url"
	"testing"
)

// benchRequest is a typical Organizations call as botocore sends it, with
// temporary credentials: five signed headers, a small JSON body.
func benchRequest(b *testing.B) (*http.Request, []byte) {
	body := []byte(`{"MaxResults":20,"NextToken":"AAEAAZVvZf0xUWx7mVl2dj7g2VkD"}`)
	r := &http.Request{Method: http.MethodPost, URL: &url.URL{Path: "/"}, Host: "localhost:4566", Header: http.Header{
		"Content-Type":         {"application/x-amz-json-1.1"},
		"X-Amz-Target":         {"AWSOrganizationsV20161128.ListAccounts"},
		"User-Agent":           {"Botocore/1.43.11 ua/2.1 os/linux lang/python#3.11.7"},
		"Content-Length":       {"63"},
		"X-Amz-Security-Token": {"FwoGZXIvYXdzEXAMPLETOKEN//////////wEaDEXAMPLE+session/token=="},
	}}
	s := baseSignature(suiteTime)
	s.SignedHeaders = append(s.SignedHeaders, "x-amz-security-token")
	return sign(b, r, body, testSecret, s), body
}

func BenchmarkParseRequest(b *testing.B) {
	r, _ := benchRequest(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseRequest(r); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	r, body := benchRequest(b)
	sig, err := ParseRequest(r)
	if err != nil {
		b.Fatal(err)
	}
	opts := VerifyOptions{Services: services}
	b.ReportAllocs()
	for b.Loop() {
		if err := Verify(r, body, sig, testSecret, suiteTime, opts); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseAndVerifyParallel(b *testing.B) {
	r, body := benchRequest(b)
	opts := VerifyOptions{Services: services}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			sig, err := ParseRequest(r)
			if err != nil {
				b.Fatal(err)
			}
			if err := Verify(r, body, sig, testSecret, suiteTime, opts); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkSigningKey is the cost the cache saves on every request.
func BenchmarkSigningKey(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		SigningKey(testSecret, "20150830", "us-east-1", "organizations")
	}
}

// BenchmarkVerifyMismatch is a wrong secret: the same work as a success,
// plus the error.
func BenchmarkVerifyMismatch(b *testing.B) {
	r, body := benchRequest(b)
	sig, err := ParseRequest(r)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := Verify(r, body, sig, "wrong", suiteTime, VerifyOptions{}); err == nil {
			b.Fatal("verified")
		}
	}
}
