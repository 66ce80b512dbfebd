package main

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"sync"
)

// recorded is one response orgstack gave, byte for byte.
type recorded struct {
	status int
	header http.Header
	body   []byte
}

// recorder keeps orgstack's responses during the warm-up, keyed by target
// and request body, so that the bare handler can answer every request of
// the mix with exactly what orgstack answered to it (or, for a request it
// has not seen, to another request of the same operation).
type recorder struct {
	mu        sync.Mutex
	responses map[string]recorded // target + "\n" + body
	byTarget  map[string]recorded // the first response of each target
}

func newRecorder() *recorder {
	return &recorder{responses: map[string]recorded{}, byTarget: map[string]recorded{}}
}

type recordingTransport struct {
	next http.RoundTripper
	rec  *recorder
}

func (r *recorder) wrap(next http.RoundTripper) http.RoundTripper {
	return &recordingTransport{next: next, rec: r}
}

func (t *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	respBody, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(respBody))
	target := req.Header.Get("X-Amz-Target")
	rr := recorded{status: resp.StatusCode, header: resp.Header.Clone(), body: respBody}
	t.rec.mu.Lock()
	t.rec.responses[target+"\n"+string(body)] = rr
	if _, ok := t.rec.byTarget[target]; !ok && resp.StatusCode == http.StatusOK {
		t.rec.byTarget[target] = rr
	}
	t.rec.mu.Unlock()
	return resp, nil
}

// serve starts the bare handler on a loopback port: no routing beyond a
// map lookup, no decoding, no store — the physical limit of this machine
// and client for these exact responses.
func (r *recorder) serve() (url string, stop func(), err error) {
	h := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		target := req.Header.Get("X-Amz-Target")
		r.mu.Lock()
		rr, ok := r.responses[target+"\n"+string(body)]
		if !ok {
			rr, ok = r.byTarget[target]
		}
		r.mu.Unlock()
		if !ok {
			http.Error(w, "no recorded response", http.StatusNotFound)
			return
		}
		for k, v := range rr.header {
			w.Header()[k] = v
		}
		w.WriteHeader(rr.status)
		w.Write(rr.body)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), func() { srv.Close() }, nil
}
