package auth

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

const (
	// Algorithm is the only signing algorithm Verify accepts.
	Algorithm = "AWS4-HMAC-SHA256"
	// algorithmV4A is SigV4a. It is parsed (so that open mode can still
	// attribute the request to an account) but never verified.
	algorithmV4A = "AWS4-ECDSA-P256-SHA256"

	scopeTerminator = "aws4_request"
	amzDateFormat   = "20060102T150405Z" // ISO 8601 basic format, UTC
	scopeDateFormat = "20060102"

	// Non-S3 services ignore X-Amz-Expires and let a presigned request live
	// for about 15 minutes (aws/aws-sdk-go#2167, #2224). We honour the
	// parameter when present and fall back to that lifetime when it is not.
	defaultPresignExpiry = 15 * time.Minute
	// SigV4 signing keys are valid for seven days, hence the presign limit.
	maxPresignExpiry = 7 * 24 * time.Hour
)

// Signature is what a request says about its own signature, before anything
// is verified.
type Signature struct {
	Algorithm   string
	AccessKeyID string
	// Credential scope: Date/Region/Service/Terminator.
	Date       string // YYYYMMDD
	Region     string
	Service    string
	Terminator string
	// SignedHeaders is the client's list, lower-cased, sorted and without
	// duplicates; it is the list the canonical request is built from.
	SignedHeaders []string
	Signature     string // hex, as sent

	// Time is the request time from X-Amz-Date, or else the Date header.
	Time time.Time
	// AmzDate is Time in ISO 8601 basic format, as it enters the string to
	// sign, also when the client sent a Date header.
	AmzDate string

	SecurityToken string
	Presigned     bool
	Expires       time.Duration // presigned requests only
}

// Scope returns the credential scope, date/region/service/terminator.
func (s *Signature) Scope() string {
	return s.Date + "/" + s.Region + "/" + s.Service + "/" + s.Terminator
}

// ParseRequest extracts the SigV4 signature from the Authorization header or,
// when there is none, from presigned query parameters. It verifies nothing;
// its errors are *Error values with the codes AWS uses for malformed
// signatures, or MissingAuthenticationTokenError when the request carries no
// credentials at all.
func ParseRequest(r *http.Request) (*Signature, error) {
	if v, ok := r.Header["Authorization"]; ok && len(v) > 0 {
		return parseAuthorization(r, v[0])
	}
	// Only pay for parsing the query when it can hold credentials.
	if strings.Contains(r.URL.RawQuery, "X-Amz-") {
		q := r.URL.Query()
		if q.Has("X-Amz-Algorithm") || q.Has("X-Amz-Credential") || q.Has("X-Amz-Signature") {
			return parsePresigned(r, q)
		}
	}
	return nil, MissingAuthenticationTokenError()
}

func parseAuthorization(r *http.Request, header string) (*Signature, error) {
	alg, params, _ := strings.Cut(strings.TrimSpace(header), " ")
	var credential, signedHeaders, signature string
	var haveCredential, haveSignedHeaders, haveSignature bool
	// Components are comma separated; SDKs put a space after the comma and
	// some hand-written signers do not, so trim and accept any order.
	for params != "" {
		var part string
		part, params, _ = strings.Cut(params, ",")
		key, value, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch key {
		case "Credential":
			credential, haveCredential = value, true
		case "SignedHeaders":
			signedHeaders, haveSignedHeaders = value, true
		case "Signature":
			signature, haveSignature = value, true
		}
	}

	t, amzDate, haveTime := requestTime(r)

	// AWS lists every missing piece in one message and echoes the header.
	var missing strings.Builder
	if !haveCredential {
		missing.WriteString("Authorization header requires 'Credential' parameter. ")
	}
	if !haveSignature {
		missing.WriteString("Authorization header requires 'Signature' parameter. ")
	}
	if !haveSignedHeaders {
		missing.WriteString("Authorization header requires 'SignedHeaders' parameter. ")
	}
	if !haveTime {
		missing.WriteString("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ")
	}
	if missing.Len() > 0 {
		missing.WriteString("Authorization=")
		missing.WriteString(header)
		return nil, errIncomplete(missing.String())
	}

	sig := &Signature{
		Algorithm:     alg,
		SignedHeaders: splitSignedHeaders(signedHeaders),
		Signature:     signature,
		Time:          t,
		AmzDate:       amzDate,
		SecurityToken: firstValue(r.Header, "X-Amz-Security-Token"),
	}
	if err := sig.parseCredential(credential, firstValue(r.Header, "X-Amz-Region-Set")); err != nil {
		return nil, err
	}
	return sig, nil
}

// requestTime reads X-Amz-Date, falling back to Date, and returns the time
// also in the form the string to sign uses. A value that does not parse
// counts as absent, so the client gets the "requires existence of either"
// message rather than a parser error.
func requestTime(r *http.Request) (time.Time, string, bool) {
	if v := firstValue(r.Header, "X-Amz-Date"); v != "" {
		if t, err := time.Parse(amzDateFormat, v); err == nil {
			return t, v, true
		}
	}
	if v := firstValue(r.Header, "Date"); v != "" {
		if t, err := http.ParseTime(v); err == nil {
			t = t.UTC()
			return t, t.Format(amzDateFormat), true
		}
	}
	return time.Time{}, "", false
}

// firstValue is Header.Get for a key already in canonical form, without
// canonicalising it again on every request.
func firstValue(h http.Header, canonicalKey string) string {
	if v := h[canonicalKey]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func parsePresigned(r *http.Request, q url.Values) (*Signature, error) {
	var missing strings.Builder
	for _, name := range [...]string{"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-Date", "X-Amz-SignedHeaders"} {
		if !q.Has(name) {
			missing.WriteString("AWS query-string parameters must include '" + name + "'. ")
		}
	}
	if missing.Len() > 0 {
		missing.WriteString("Re-examine the query-string parameters.")
		return nil, errIncomplete(missing.String())
	}

	amzDate := q.Get("X-Amz-Date")
	t, err := time.Parse(amzDateFormat, amzDate)
	if err != nil {
		return nil, errIncomplete("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"")
	}
	expires, err := parseExpires(q)
	if err != nil {
		return nil, err
	}

	sig := &Signature{
		Algorithm:     q.Get("X-Amz-Algorithm"),
		SignedHeaders: splitSignedHeaders(q.Get("X-Amz-SignedHeaders")),
		Signature:     q.Get("X-Amz-Signature"),
		Time:          t,
		AmzDate:       amzDate,
		SecurityToken: q.Get("X-Amz-Security-Token"),
		Presigned:     true,
		Expires:       expires,
	}
	if sig.SecurityToken == "" {
		// Signers that do not hoist headers leave the token there.
		sig.SecurityToken = firstValue(r.Header, "X-Amz-Security-Token")
	}
	if err := sig.parseCredential(q.Get("X-Amz-Credential"), q.Get("X-Amz-Region-Set")); err != nil {
		return nil, err
	}
	return sig, nil
}

// parseExpires validates X-Amz-Expires with S3's wording, the only service
// that documents it.
func parseExpires(q url.Values) (time.Duration, error) {
	if !q.Has("X-Amz-Expires") {
		return defaultPresignExpiry, nil
	}
	n, err := strconv.ParseInt(q.Get("X-Amz-Expires"), 10, 64)
	switch {
	case err != nil:
		return 0, errIncomplete("X-Amz-Expires should be a number")
	case n < 0:
		return 0, errIncomplete("X-Amz-Expires must be non-negative")
	case n > int64(maxPresignExpiry/time.Second):
		return 0, errIncomplete("X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds")
	}
	return time.Duration(n) * time.Second, nil
}

// parseCredential splits keyid/date/region/service/term. SigV4a scopes have
// no region (it travels in X-Amz-Region-Set), so they have four elements.
func (s *Signature) parseCredential(credential, regionSet string) error {
	want := 5
	if s.Algorithm == algorithmV4A {
		want = 4
	}
	parts := strings.Split(credential, "/")
	if len(parts) != want {
		return errIncomplete("Credential must have exactly " + strconv.Itoa(want) +
			" slash-delimited elements, e.g. keyid/date/region/service/term, got '" + credential + "'")
	}
	s.AccessKeyID, s.Date = parts[0], parts[1]
	if want == 4 {
		s.Region, s.Service, s.Terminator = regionSet, parts[2], parts[3]
	} else {
		s.Region, s.Service, s.Terminator = parts[2], parts[3], parts[4]
	}
	return nil
}

// splitSignedHeaders lower-cases, sorts and de-duplicates the client's list:
// the canonical request needs it sorted, and a list that is not would not
// verify at AWS either.
func splitSignedHeaders(list string) []string {
	if list == "" {
		return nil
	}
	names := strings.Split(strings.ToLower(list), ";")
	for i, n := range names {
		names[i] = strings.TrimSpace(n)
	}
	names = slices.DeleteFunc(names, func(n string) bool { return n == "" })
	slices.Sort(names)
	return slices.Compact(names)
}
