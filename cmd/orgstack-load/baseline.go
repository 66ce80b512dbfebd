package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
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

// handler answers every request with the response recorded for it: no
// routing beyond a map lookup, no decoding, no store.
func (r *recorder) handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
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
}

// serve starts the bare handler on a loopback port, in this process: the
// physical limit of this machine and client for these exact responses.
func (r *recorder) serve() (url string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: r.handler()}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), func() { srv.Close() }, nil
}

// recordedFile is the form in which serveProcess hands the responses to
// the process it starts.
type recordedFile struct {
	Responses map[string]recordedJSON
	ByTarget  map[string]recordedJSON
}

type recordedJSON struct {
	Status int
	Header http.Header
	Body   []byte
}

func toJSON(m map[string]recorded) map[string]recordedJSON {
	out := make(map[string]recordedJSON, len(m))
	for k, v := range m {
		out[k] = recordedJSON{Status: v.status, Header: v.header, Body: v.body}
	}
	return out
}

func fromJSON(m map[string]recordedJSON) map[string]recorded {
	out := make(map[string]recorded, len(m))
	for k, v := range m {
		out[k] = recorded{status: v.Status, header: v.Header, body: v.Body}
	}
	return out
}

// serveProcess starts this program again as a bare handler serving the
// recorded responses (--serve-recorded) in a process of its own, and
// returns its URL and process id. Stopping it closes its standard input,
// which it waits on.
func (r *recorder) serveProcess() (url string, pids []int, stop func(), err error) {
	exe, err := os.Executable()
	if err != nil {
		return "", nil, nil, err
	}
	f, err := os.CreateTemp("", "orgstack-load-recorded-*.json")
	if err != nil {
		return "", nil, nil, err
	}
	defer os.Remove(f.Name()) // the child has read it once it answers
	r.mu.Lock()
	err = json.NewEncoder(f).Encode(recordedFile{Responses: toJSON(r.responses), ByTarget: toJSON(r.byTarget)})
	r.mu.Unlock()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", nil, nil, err
	}
	cmd := exec.Command(exe, "--serve-recorded", f.Name())
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return "", nil, nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", nil, nil, err
	}
	stop = func() {
		stdin.Close()
		_ = cmd.Wait()
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	if err != nil || !ok {
		stop()
		return "", nil, nil, fmt.Errorf("the bare process did not start: %q, %v", line, err)
	}
	return url, []int{cmd.Process.Pid}, stop, nil
}

// serveRecordedFile is the bare process: it serves the responses of the
// file until its standard input closes.
func serveRecordedFile(path string, out io.Writer) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var f recordedFile
	if err := json.Unmarshal(b, &f); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	r := &recorder{responses: fromJSON(f.Responses), byTarget: fromJSON(f.ByTarget)}
	url, stop, err := r.serve()
	if err != nil {
		return err
	}
	defer stop()
	fmt.Fprintf(out, "listening on %s\n", url)
	_, _ = io.Copy(io.Discard, os.Stdin)
	return nil
}
