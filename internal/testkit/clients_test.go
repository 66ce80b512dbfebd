package testkit

import (
	"bytes"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// closeTracker is a request body of no kind net/http knows.
type closeTracker struct {
	io.Reader
	closed bool
}

func (c *closeTracker) Close() error { c.closed = true; return nil }

// TestBufferedBodiesAreInMemory: the transport gets the same bytes in a
// reader net/http writes before sending anything, and the caller's body
// is consumed and closed before the request goes out, so closing it early
// cannot break the connection.
func TestBufferedBodiesAreInMemory(t *testing.T) {
	t.Parallel()
	orig := &closeTracker{Reader: strings.NewReader(`{"a":1}`)}
	req, err := http.NewRequest("POST", "http://example.invalid/", orig)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = 7
	rt := bufferedBodies{roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if !orig.closed {
			t.Error("the caller's body is still open when the request goes out")
		}
		if r == req {
			t.Error("the caller's request was modified instead of cloned")
		}
		// net/http recognises a NopCloser over a bytes.Reader as in memory.
		if reflect.TypeOf(r.Body) != reflect.TypeOf(io.NopCloser(bytes.NewReader(nil))) || r.GetBody == nil {
			t.Fatalf("body %T (GetBody set: %v), want an io.NopCloser over a *bytes.Reader", r.Body, r.GetBody != nil)
		}
		b, _ := io.ReadAll(r.Body)
		again, _ := r.GetBody()
		b2, _ := io.ReadAll(again)
		if string(b) != `{"a":1}` || !bytes.Equal(b, b2) || r.ContentLength != 7 {
			t.Errorf("body %q, GetBody %q, length %d", b, b2, r.ContentLength)
		}
		return &http.Response{StatusCode: 200, Body: http.NoBody}, nil
	})}
	if _, err := rt.RoundTrip(req); err != nil {
		t.Fatal(err)
	}
	if req.Body != orig {
		t.Error("the caller's request lost its body")
	}
}
