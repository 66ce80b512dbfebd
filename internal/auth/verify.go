package auth

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"hash"
	"net/http"
	"slices"
	"sync"
	"time"
)

const (
	// DefaultMaxSkew is how far the request time may be from the server's
	// clock: "a request must reach AWS within five minutes of the time stamp"
	// (IAM User Guide, "Elements of an AWS API request signature").
	DefaultMaxSkew = 5 * time.Minute

	unsignedPayload = "UNSIGNED-PAYLOAD"
)

// VerifyOptions tunes Verify.
type VerifyOptions struct {
	// Services lists the signing names the endpoint answers to
	// (organizations, aco-automation, sts). The first is the one named in
	// the error when the scope names another. Empty accepts any service.
	Services []string
	// MaxSkew overrides DefaultMaxSkew when positive.
	MaxSkew time.Duration
}

// Verify checks sig, as parsed from r by ParseRequest, against the secret
// access key the caller looked up for sig.AccessKeyID. body is the request
// body, already read (Verify does not touch r.Body). now must be the real
// wall clock: a virtual clock that tests move forward would make every
// signature look expired.
//
// It checks, in order: algorithm, credential scope (terminator, service,
// region, date against the request date), that host is signed, clock skew or
// presigned expiry, the payload hash, and finally the signature itself, in
// constant time. Every failure is an *Error.
func Verify(r *http.Request, body []byte, sig *Signature, secret string, now time.Time, opts VerifyOptions) error {
	return verifyPath(r, r.URL.EscapedPath(), body, sig, secret, now, opts)
}

// verifyPath is Verify with the escaped path given explicitly. The official
// test vectors have request lines such as "GET /example space/" that no
// HTTP parser accepts, so the vector tests pass the path straight through.
func verifyPath(r *http.Request, escapedPath string, body []byte, sig *Signature, secret string, now time.Time, opts VerifyOptions) error {
	if err := checkScope(sig, opts); err != nil {
		return err
	}
	if err := checkTime(sig, now, opts); err != nil {
		return err
	}

	payload, fallback, err := payloadHashes(r, body, sig)
	if err != nil {
		return err
	}

	// Stack buffers: a typical request fits, and Verify then allocates
	// only for hashing.
	var queryBuf, headerBuf, uriBuf, reqBuf [512]byte
	query := appendCanonicalQuery(queryBuf[:0], r.URL.RawQuery, sig.Presigned)
	headers, err := appendCanonicalHeaders(headerBuf[:0], r, sig.SignedHeaders, appendTrimmed)
	if err != nil {
		return errMismatch(err.Error())
	}

	// The path as sent is what Go's signer signs; botocore and the CRT
	// signers normalise it first, so try that too when it differs.
	paths := [2]string{escapedPath, removeDotSegments(escapedPath)}
	nPaths := 1
	if escapedPath != "" && paths[1] != escapedPath {
		nPaths = 2
	}
	payloads := [2]string{payload, fallback}
	nPayloads := 1
	if fallback != "" {
		nPayloads = 2
	}

	key := signingKeys.get(secret, sig.Date, sig.Region, sig.Service)
	matches := func(headers []byte) bool {
		for _, path := range paths[:nPaths] {
			uri := appendCanonicalURI(uriBuf[:0], path, false)
			for _, payload := range payloads[:nPayloads] {
				creq := appendCanonicalRequest(reqBuf[:0], r.Method, uri, query, headers, sig.SignedHeaders, payload)
				sts := appendStringToSign(make([]byte, 0, 128+len(sig.Region)+len(sig.Service)), sig, sha256.Sum256(creq))
				if signatureMatches(key, sts, sig.Signature) {
					return true
				}
			}
		}
		return false
	}
	if matches(headers) {
		return nil
	}
	// Signers disagree on whitespace inside header values: botocore and
	// the spec's Trimall collapse tabs with spaces, Go's signer keeps tabs
	// and trims every Unicode space at the ends. Where the two readings
	// differ, try Go's as well; both need the secret to sign.
	if goHeaders, _ := appendCanonicalHeaders(nil, r, sig.SignedHeaders, appendTrimmedGo); !bytes.Equal(goHeaders, headers) && matches(goHeaders) {
		return nil
	}
	return errMismatch("recomputed signature differs")
}

func checkScope(sig *Signature, opts VerifyOptions) error {
	if sig.Algorithm != Algorithm {
		return errIncomplete(fmt.Sprintf("Unsupported AWS 'algorithm': '%s'.", sig.Algorithm))
	}
	if sig.Terminator != scopeTerminator {
		return errInvalid(fmt.Sprintf("Credential should be scoped with a valid terminator: 'aws4_request', not '%s'. ", sig.Terminator))
	}
	if len(opts.Services) > 0 && !slices.Contains(opts.Services, sig.Service) {
		return errInvalid(fmt.Sprintf("Credential should be scoped to correct service: '%s'. ", opts.Services[0]))
	}
	// Any region is fine: with a custom endpoint the SDKs sign with the
	// configured region, whatever it is (PROTOCOLS.md §4.1).
	if sig.Region == "" {
		return errInvalid("Credential should be scoped to a valid region, not ''. ")
	}
	date := sig.AmzDate // YYYYMMDDTHHMMSSZ; its first eight bytes are the date
	if len(date) > len(scopeDateFormat) {
		date = date[:len(scopeDateFormat)]
	}
	if sig.Date != date {
		return errInvalid(fmt.Sprintf("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.",
			sig.Date, date, sig.AmzDate))
	}
	if !slices.Contains(sig.SignedHeaders, "host") {
		return errIncomplete("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
	}
	return nil
}

// checkTime applies AWS's clock-skew rule to signed headers and, for
// presigned requests, the X-Amz-Expires lifetime instead of the past half of
// the skew window. The messages are AWS's, formats included.
func checkTime(sig *Signature, now time.Time, opts VerifyOptions) error {
	skew := opts.MaxSkew
	if skew <= 0 {
		skew = DefaultMaxSkew
	}
	now = now.UTC()
	if late := now.Add(skew); sig.Time.After(late) {
		return errInvalid(fmt.Sprintf("Signature not yet current: %s is still later than %s (%s + %s.)",
			sig.AmzDate, late.Format(amzDateFormat), now.Format(amzDateFormat), window(skew)))
	}
	lifetime := skew
	if sig.Presigned {
		lifetime = sig.Expires
	}
	if early := now.Add(-lifetime); sig.Time.Before(early) {
		return errInvalid(fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - %s.)",
			sig.AmzDate, early.Format(amzDateFormat), now.Format(amzDateFormat), window(lifetime)))
	}
	return nil
}

// window renders a duration the way AWS's skew messages do ("5 min").
func window(d time.Duration) string {
	if d%time.Minute == 0 {
		return fmt.Sprintf("%d min", d/time.Minute)
	}
	return fmt.Sprintf("%d sec", d/time.Second)
}

// payloadHashes returns the payload hashes to try, most likely first.
//
// A client that sends X-Amz-Content-Sha256 signs that value (botocore and
// MinIO read it the same way); we also require it to match the body, or the
// signature would cover a body other than the one we are about to execute.
// Without the header the hash of the body is signed; a presigned request
// may instead have been signed S3-style over UNSIGNED-PAYLOAD, which only a
// second attempt can tell.
func payloadHashes(r *http.Request, body []byte, sig *Signature) (payload, fallback string, err error) {
	var declared string
	if v := r.Header["X-Amz-Content-Sha256"]; len(v) > 0 {
		declared = v[0]
	}
	if declared == unsignedPayload {
		return declared, "", nil
	}
	sum := sha256.Sum256(body)
	var h [2 * sha256.Size]byte
	hex.Encode(h[:], sum[:])
	actual := string(h[:])
	switch {
	case declared != "" && declared != actual:
		return "", "", errMismatch("X-Amz-Content-Sha256 does not match the body")
	case declared != "":
		return declared, "", nil
	case sig.Presigned:
		return actual, unsignedPayload, nil
	}
	return actual, "", nil
}

func signatureMatches(key *macKey, stringToSign []byte, got string) bool {
	var want [2 * sha256.Size]byte
	hex.Encode(want[:], key.sum(stringToSign))
	return subtle.ConstantTimeCompare(want[:], []byte(got)) == 1
}

// macKey is HMAC-SHA256 under a fixed key with the inner and outer pad
// blocks already hashed, so that each signature costs two clones instead
// of hmac.New's allocations and two extra compressions.
type macKey struct {
	inner, outer hash.Cloner
}

func newMACKey(key []byte) *macKey {
	const blockSize = 64 // SHA-256; SigV4 keys are 32 bytes, never longer
	var ipad, opad [blockSize]byte
	copy(ipad[:], key)
	copy(opad[:], key)
	for i := range ipad {
		ipad[i] ^= 0x36
		opad[i] ^= 0x5c
	}
	k := &macKey{inner: sha256.New().(hash.Cloner), outer: sha256.New().(hash.Cloner)}
	k.inner.Write(ipad[:])
	k.outer.Write(opad[:])
	return k
}

// sum returns HMAC(key, msg). It does not change k, so one macKey serves
// concurrent requests.
func (k *macKey) sum(msg []byte) []byte {
	in, err := k.inner.Clone()
	if err != nil {
		panic(err) // sha256 always clones
	}
	in.Write(msg)
	buf := make([]byte, 0, 2*sha256.Size) // inner digest, then the MAC
	inner := in.Sum(buf)
	out, err := k.outer.Clone()
	if err != nil {
		panic(err)
	}
	out.Write(inner)
	return out.Sum(inner[len(inner):])
}

// signingKeys caches derived keys: the four HMACs of the derivation cost
// more than the rest of a verification, and a key only changes with the
// date. The cache holds secrets, as the credential store does; it is
// bounded and simply starts over when full, which also drops past days.
var signingKeys = keyCache{m: make(map[keyID]*macKey)}

const maxCachedKeys = 4096

type keyID struct{ secret, date, region, service string }

type keyCache struct {
	mu sync.RWMutex
	m  map[keyID]*macKey
}

func (c *keyCache) get(secret, date, region, service string) *macKey {
	id := keyID{secret, date, region, service}
	c.mu.RLock()
	k, ok := c.m[id]
	c.mu.RUnlock()
	if ok {
		return k
	}
	k = newMACKey(SigningKey(secret, date, region, service))
	c.mu.Lock()
	if len(c.m) >= maxCachedKeys {
		clear(c.m)
	}
	c.m[id] = k
	c.mu.Unlock()
	return k
}
