package auth

import (
	"net/http"
	"net/url"
	"testing"
)

func TestCanonicalURI(t *testing.T) {
	tests := []struct {
		path      string
		normalize bool
		want      string
	}{
		{"", false, "/"},
		{"/", false, "/"},
		{"/service/ComputeOptimizerAutomationService/operation/ListAccounts", false,
			"/service/ComputeOptimizerAutomationService/operation/ListAccounts"},
		{"/%20/foo", false, "/%2520/foo"}, // escaped path is encoded again
		{"/a%2Fb", false, "/a%252Fb"},
		{"/example space/", false, "/example%20space/"},
		{"/ሴ", false, "/%E1%88%B4"},
		{"/-._~AZaz09", false, "/-._~AZaz09"},
		{"/!$&'()*+,;=:@", false, "/%21%24%26%27%28%29%2A%2B%2C%3B%3D%3A%40"},
		{"//example//", false, "//example//"},
		{"//example//", true, "/example/"},
		{"/example1/example2/../..", true, "/"},
		{"/example/..", true, "/"},
		{"/./", true, "/"},
		{"/./example", true, "/example"},
		{"/a/./b/../c/", true, "/a/c/"},
		{"/.well-known", true, "/.well-known"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			if got := CanonicalURI(tt.path, tt.normalize); got != tt.want {
				t.Errorf("CanonicalURI(%q, %v) = %q, want %q", tt.path, tt.normalize, got, tt.want)
			}
		})
	}
}

func TestCanonicalQuery(t *testing.T) {
	tests := []struct {
		name      string
		raw       string
		presigned bool
		want      string
	}{
		{"empty", "", false, ""},
		{"sorted by key", "b=2&a=1", false, "a=1&b=2"},
		{"key case", "Param2=value2&Param1=value1&param0=x", false, "Param1=value1&Param2=value2&param0=x"},
		{"duplicate keys sort by value", "a=2&a=1&a=10", false, "a=1&a=10&a=2"},
		{"no value", "acl&b=", false, "acl=&b="},
		{"empty segments", "&a=1&&", false, "a=1"},
		{"re-encoding", "a=%7e%2f&b=x%20y&c=x+y", false, "a=~%2F&b=x%20y&c=x%20y"},
		{"reserved", "k=%2B%26%3D", false, "k=%2B%26%3D"},
		{"utf-8", "%E1%88%B4=bar", false, "%E1%88%B4=bar"},
		{"malformed escape kept", "a=%zz", false, "a=%25zz"},
		{"signature dropped when presigned", "X-Amz-Signature=abc&X-Amz-Date=1", true, "X-Amz-Date=1"},
		{"signature kept otherwise", "X-Amz-Signature=abc", false, "X-Amz-Signature=abc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CanonicalQuery(tt.raw, tt.presigned); got != tt.want {
				t.Errorf("CanonicalQuery(%q) = %q, want %q", tt.raw, got, tt.want)
			}
		})
	}
}

func TestCanonicalHeaders(t *testing.T) {
	r := &http.Request{
		Method: http.MethodPost, URL: &url.URL{Path: "/", Host: "url-host"}, Host: "localhost:4566",
		Header: http.Header{
			"Content-Length": {"2"},
			"X-Multi":        {"  a  ", "b\t\tc", " d   e "},
			"X-Amz-Date":     {"20150830T123600Z"},
		},
		TransferEncoding: []string{"chunked"},
	}
	got, err := CanonicalHeaders(r, []string{"content-length", "host", "transfer-encoding", "x-amz-date", "x-multi"})
	if err != nil {
		t.Fatal(err)
	}
	want := "content-length:2\nhost:localhost:4566\ntransfer-encoding:chunked\nx-amz-date:20150830T123600Z\nx-multi:a,b c,d e\n"
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}

	// A client-built request: no Host, Content-Length only as a field.
	c := &http.Request{URL: &url.URL{Host: "example.com"}, Header: http.Header{}, ContentLength: 17}
	if got, _ := CanonicalHeaders(c, []string{"content-length", "host"}); got != "content-length:17\nhost:example.com\n" {
		t.Errorf("client request: %q", got)
	}

	if _, err := CanonicalHeaders(r, []string{"host", "x-missing"}); err == nil {
		t.Error("a listed header that is absent must be an error")
	}
	if _, err := CanonicalHeaders(&http.Request{URL: &url.URL{}, Header: http.Header{}}, []string{"content-length"}); err == nil {
		t.Error("content-length of an empty client request is absent")
	}
}

func TestStringToSignAndKey(t *testing.T) {
	// get-vanilla of the 2015 suite.
	creq := "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n" +
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	if got := CanonicalRequest("GET", "/", "", "host:example.amazonaws.com\nx-amz-date:20150830T123600Z\n",
		[]string{"host", "x-amz-date"}, hashHex(nil)); got != creq {
		t.Errorf("CanonicalRequest = %q", got)
	}
	sts := StringToSign("20150830T123600Z", "20150830/us-east-1/service/aws4_request", creq)
	wantSTS := "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n" +
		"bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63"
	if sts != wantSTS {
		t.Errorf("StringToSign = %q", sts)
	}
	key := SigningKey(suiteSecret, "20150830", "us-east-1", "service")
	if got := SignatureHex(key, sts); got != "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31" {
		t.Errorf("signature = %s", got)
	}
}
