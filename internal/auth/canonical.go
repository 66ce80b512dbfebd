package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
)

// The builders below append to a byte slice so that Verify can assemble the
// whole canonical request in one buffer; the exported wrappers return
// strings for tests and diagnostics.

// CanonicalRequest joins the six parts of a canonical request:
//
//	Method \n CanonicalURI \n CanonicalQuery \n CanonicalHeaders \n SignedHeaders \n HashedPayload
//
// canonicalHeaders is the output of CanonicalHeaders (one "name:value\n"
// line per signed header).
func CanonicalRequest(method, canonicalURI, canonicalQuery, canonicalHeaders string, signedHeaders []string, payloadHash string) string {
	return string(appendCanonicalRequest(nil, method, []byte(canonicalURI), []byte(canonicalQuery),
		[]byte(canonicalHeaders), signedHeaders, payloadHash))
}

func appendCanonicalRequest(b []byte, method string, uri, query, headers []byte, signed []string, payloadHash string) []byte {
	b = append(b, method...)
	b = append(b, '\n')
	b = append(b, uri...)
	b = append(b, '\n')
	b = append(b, query...)
	b = append(b, '\n')
	b = append(b, headers...)
	b = append(b, '\n')
	b = appendSignedHeaders(b, signed)
	b = append(b, '\n')
	return append(b, payloadHash...)
}

func appendSignedHeaders(b []byte, signed []string) []byte {
	for i, name := range signed {
		if i > 0 {
			b = append(b, ';')
		}
		b = append(b, name...)
	}
	return b
}

// CanonicalURI encodes an already-escaped request path (r.URL.EscapedPath())
// once more, segment by segment. Encoding the escaped form is what makes
// every service but S3 "double encode": botocore quotes the path it took
// from the URL, Go's signer escapes URL.EscapedPath(), so "%20" on the wire
// is "%2520" in the canonical request.
//
// With normalize, dot segments and empty segments are removed first, as
// botocore's normalize_url_path and aws-c-auth's "normalize" option do. Go's
// signer does not normalise; Verify tries the path as sent first.
func CanonicalURI(escapedPath string, normalize bool) string {
	return string(appendCanonicalURI(nil, escapedPath, normalize))
}

func appendCanonicalURI(b []byte, path string, normalize bool) []byte {
	if normalize {
		path = removeDotSegments(path)
	}
	if path == "" {
		return append(b, '/')
	}
	for i := 0; i < len(path); i++ {
		c := path[i]
		if c == '/' || isUnreserved(c) {
			b = append(b, c)
		} else {
			b = appendPercent(b, c)
		}
	}
	return b
}

// removeDotSegments follows RFC 3986 §5.2.4 and also drops empty segments
// ("//"), which AWS requires; a trailing slash survives unless the result is
// the root. This mirrors botocore's remove_dot_segments.
func removeDotSegments(path string) string {
	if path == "" {
		return "/"
	}
	if !strings.Contains(path, "//") && !strings.Contains(path, "/.") {
		return path // nothing to remove; the common case, without allocating
	}
	var out []string
	for seg := range strings.SplitSeq(path, "/") {
		switch seg {
		case "", ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, seg)
		}
	}
	var b strings.Builder
	if path[0] == '/' {
		b.WriteByte('/')
	}
	b.WriteString(strings.Join(out, "/"))
	if path[len(path)-1] == '/' && len(out) > 0 {
		b.WriteByte('/')
	}
	return b.String()
}

// CanonicalQuery sorts the query parameters by encoded name, then by encoded
// value, and re-encodes them with RFC 3986 rules (only A-Z a-z 0-9 - _ . ~
// stay literal, space is %20). For presigned requests X-Amz-Signature is left
// out, as the signature cannot sign itself. A '+' in the raw query decodes to
// a space, as url.ParseQuery (and so Go's signer) reads it.
func CanonicalQuery(rawQuery string, presigned bool) string {
	return string(appendCanonicalQuery(nil, rawQuery, presigned))
}

func appendCanonicalQuery(b []byte, rawQuery string, presigned bool) []byte {
	if rawQuery == "" {
		return b
	}
	type pair struct{ k, v string }
	var pairs []pair
	for rawQuery != "" {
		var seg string
		seg, rawQuery, _ = strings.Cut(rawQuery, "&")
		if seg == "" {
			continue
		}
		k, v, _ := strings.Cut(seg, "=")
		k = queryUnescape(k)
		if presigned && k == "X-Amz-Signature" {
			continue
		}
		pairs = append(pairs, pair{uriEncode(k), uriEncode(queryUnescape(v))})
	}
	slices.SortFunc(pairs, func(a, b pair) int {
		if c := strings.Compare(a.k, b.k); c != 0 {
			return c
		}
		return strings.Compare(a.v, b.v)
	})
	for i, p := range pairs {
		if i > 0 {
			b = append(b, '&')
		}
		b = append(b, p.k...)
		b = append(b, '=')
		b = append(b, p.v...)
	}
	return b
}

// CanonicalHeaders renders the headers the client listed in SignedHeaders,
// in that (sorted) order, one "name:value\n" line each. Values are trimmed
// and inner runs of spaces and tabs collapse to one space; a header sent
// several times has its values joined with ','. A listed header the request
// does not carry is an error: signing over a value we would have to invent
// proves nothing.
//
// Go's server moves some headers out of r.Header: Host is in r.Host and
// Transfer-Encoding in r.TransferEncoding. Content-Length stays in r.Header
// on the server; on a client-built request it is only r.ContentLength.
func CanonicalHeaders(r *http.Request, signedHeaders []string) (string, error) {
	b, err := appendCanonicalHeaders(nil, r, signedHeaders, appendTrimmed)
	return string(b), err
}

// trimFunc appends a header value in canonical form: appendTrimmed, or
// appendTrimmedGo for the Go SDK's reading of the rule.
type trimFunc func(b []byte, v string) []byte

func appendCanonicalHeaders(b []byte, r *http.Request, signed []string, trim trimFunc) ([]byte, error) {
	for _, name := range signed {
		b = append(b, name...)
		b = append(b, ':')
		var ok bool
		if b, ok = appendHeaderValues(b, r, name, trim); !ok {
			return b, fmt.Errorf("signed header %q is not in the request", name)
		}
		b = append(b, '\n')
	}
	return b, nil
}

// appendHeaderValues appends the canonical value of one signed header and
// reports whether the request has it at all.
func appendHeaderValues(b []byte, r *http.Request, name string, trim trimFunc) ([]byte, bool) {
	switch name {
	case "host":
		switch {
		case r.Host != "":
			return trim(b, r.Host), true
		case len(r.Header["Host"]) > 0:
			return appendJoined(b, r.Header["Host"], trim), true
		case r.URL != nil && r.URL.Host != "":
			return trim(b, r.URL.Host), true
		}
		return b, false
	case "content-length":
		if v := r.Header["Content-Length"]; len(v) > 0 {
			return appendJoined(b, v, trim), true
		}
		if r.ContentLength > 0 {
			return strconv.AppendInt(b, r.ContentLength, 10), true
		}
		return b, false
	case "transfer-encoding":
		if v := r.Header["Transfer-Encoding"]; len(v) > 0 {
			return appendJoined(b, v, trim), true
		}
		if len(r.TransferEncoding) > 0 {
			return appendJoined(b, r.TransferEncoding, trim), true
		}
		return b, false
	}
	v := r.Header[canonicalKey(name)]
	if len(v) == 0 {
		return b, false
	}
	return appendJoined(b, v, trim), true
}

// appendJoined appends the values of a header sent several times, each
// trimmed, joined with ','.
func appendJoined(b []byte, values []string, trim trimFunc) []byte {
	for i, v := range values {
		if i > 0 {
			b = append(b, ',')
		}
		b = trim(b, v)
	}
	return b
}

// commonKeys spares CanonicalMIMEHeaderKey, the largest single cost of
// building the canonical request, for the headers SDKs actually sign.
var commonKeys = map[string]string{
	"accept":                "Accept",
	"amz-sdk-invocation-id": "Amz-Sdk-Invocation-Id",
	"amz-sdk-request":       "Amz-Sdk-Request",
	"content-encoding":      "Content-Encoding",
	"content-md5":           "Content-Md5",
	"content-type":          "Content-Type",
	"date":                  "Date",
	"smithy-protocol":       "Smithy-Protocol",
	"user-agent":            "User-Agent",
	"x-amz-content-sha256":  "X-Amz-Content-Sha256",
	"x-amz-date":            "X-Amz-Date",
	"x-amz-security-token":  "X-Amz-Security-Token",
	"x-amz-target":          "X-Amz-Target",
	"x-amz-user-agent":      "X-Amz-User-Agent",
}

func canonicalKey(lower string) string {
	if k, ok := commonKeys[lower]; ok {
		return k
	}
	return textproto.CanonicalMIMEHeaderKey(lower)
}

// appendTrimmed appends v without leading and trailing whitespace and with
// each inner run of spaces or tabs reduced to a single space (SigV4 "Trimall").
func appendTrimmed(b []byte, v string) []byte {
	v = strings.Trim(v, " \t")
	if !strings.Contains(v, "  ") && strings.IndexByte(v, '\t') < 0 {
		return append(b, v...) // already trim: the usual case
	}
	space := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == ' ' || c == '\t' {
			space = true
			continue
		}
		if space {
			b = append(b, ' ')
			space = false
		}
		b = append(b, c)
	}
	return b
}

// appendTrimmedGo is Trimall as aws-sdk-go-v2's signer reads it: every
// Unicode space trimmed from the ends (strings.TrimSpace), but only runs
// of spaces collapsed inside, tabs kept. It differs from appendTrimmed
// only for values with inner tabs or other spaces at their ends, so
// Verify tries it only when the first reading fails.
func appendTrimmedGo(b []byte, v string) []byte {
	v = strings.TrimSpace(v)
	for i := 0; i < len(v); i++ {
		if v[i] == ' ' && i > 0 && v[i-1] == ' ' {
			continue
		}
		b = append(b, v[i])
	}
	return b
}

// StringToSign is
//
//	AWS4-HMAC-SHA256 \n AmzDate \n Scope \n hex(sha256(CanonicalRequest))
func StringToSign(amzDate, scope, canonicalRequest string) string {
	b := append([]byte(Algorithm+"\n"+amzDate+"\n"+scope+"\n"), make([]byte, 2*sha256.Size)...)
	sum := sha256.Sum256([]byte(canonicalRequest))
	hex.Encode(b[len(b)-2*sha256.Size:], sum[:])
	return string(b)
}

// appendStringToSign is StringToSign for Verify, building the scope from sig
// in place instead of allocating it.
func appendStringToSign(b []byte, sig *Signature, canonicalHash [sha256.Size]byte) []byte {
	b = append(b, Algorithm...)
	b = append(b, '\n')
	b = append(b, sig.AmzDate...)
	b = append(b, '\n')
	for _, part := range [...]string{sig.Date, "/", sig.Region, "/", sig.Service, "/", sig.Terminator, "\n"} {
		b = append(b, part...)
	}
	n := len(b)
	b = append(b, make([]byte, 2*sha256.Size)...)
	hex.Encode(b[n:], canonicalHash[:])
	return b
}

// SigningKey derives the SigV4 key:
//
//	HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region), service), "aws4_request")
//
// It depends only on its arguments and changes once a day, which is why
// Verify caches it.
func SigningKey(secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	return hmacSHA256(k, scopeTerminator)
}

// SignatureHex is the hex HMAC-SHA256 of the string to sign under the
// signing key: the value of the Signature component.
func SignatureHex(signingKey []byte, stringToSign string) string {
	return hex.EncodeToString(hmacSHA256(signingKey, stringToSign))
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

func isUnreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~'
}

const upperHex = "0123456789ABCDEF"

func appendPercent(b []byte, c byte) []byte {
	return append(b, '%', upperHex[c>>4], upperHex[c&15])
}

// uriEncode is SigV4's UriEncode for query names and values.
func uriEncode(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if !isUnreserved(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		if isUnreserved(s[i]) {
			b = append(b, s[i])
		} else {
			b = appendPercent(b, s[i])
		}
	}
	return string(b)
}

// queryUnescape decodes %XX and '+' and, unlike url.QueryUnescape, keeps a
// malformed escape literally instead of failing: the client signed whatever
// it sent, and the re-encoded '%' will then simply not match.
func queryUnescape(s string) string {
	if !strings.ContainsAny(s, "%+") {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '+':
			b = append(b, ' ')
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		default:
			b = append(b, c)
		}
	}
	return string(b)
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}
