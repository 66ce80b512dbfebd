package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestMain lets a test run this package's binary as a child process: the
// test binary re-executes itself with ORGSTACK_TEST_CHILD set and becomes
// orgstack, so the crash tests kill a real server process.
func TestMain(m *testing.M) {
	if os.Getenv("ORGSTACK_TEST_CHILD") == "1" {
		os.Exit(run(context.Background(), strings.Fields(os.Getenv("ORGSTACK_TEST_ARGS"))))
	}
	os.Exit(m.Run())
}

// child is an orgstack server running in its own process.
type child struct {
	cmd  *exec.Cmd
	url  string
	done chan error
}

var listeningRE = regexp.MustCompile(`msg="orgstack listening" addr=(\S+)`)

func startChild(t *testing.T, args ...string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "ORGSTACK_TEST_CHILD=1", "ORGSTACK_TEST_ARGS="+strings.Join(append([]string{"serve", "--listen", "127.0.0.1:0"}, args...), " "))
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, done: make(chan error, 1)}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := listeningRE.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
	}()
	go func() { c.done <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill(); <-c.done })
	select {
	case a := <-addr:
		c.url = "http://" + a
	case err := <-c.done:
		t.Fatalf("orgstack exited before listening: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("orgstack did not start listening within 20s")
	}
	return c
}

func (c *child) signal(t *testing.T, sig syscall.Signal) error {
	t.Helper()
	if err := c.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-c.done:
		c.done <- err // for the cleanup
		return err
	case <-time.After(20 * time.Second):
		t.Fatalf("orgstack did not exit after %v", sig)
		return nil
	}
}

// orgCall sends an Organizations request as the given account.
func orgCall(client *http.Client, url, op, account string) (int, map[string]any, error) {
	req, _ := http.NewRequest("POST", url+"/", strings.NewReader("{}"))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AWSOrganizationsV20161128."+op)
	req.Header.Set("X-Amz-Date", time.Now().UTC().Format("20060102T150405Z"))
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+account+"/"+time.Now().UTC().Format("20060102")+
		"/us-east-1/organizations/aws4_request, SignedHeaders=host;x-amz-date, Signature="+strings.Repeat("0", 64))
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return resp.StatusCode, nil, fmt.Errorf("body %q: %w", b, err)
	}
	return resp.StatusCode, m, nil
}

func TestStateSurvivesRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	dir := t.TempDir()
	c := startChild(t, "--data-dir", dir)
	status, created, err := orgCall(http.DefaultClient, c.url, "CreateOrganization", "123456789012")
	if err != nil || status != 200 {
		t.Fatalf("CreateOrganization: %d %v %v", status, created, err)
	}
	resp, err := http.Post(c.url+"/_orgstack/clock", "application/json", strings.NewReader(`{"set":"2031-05-06T07:08:09Z"}`))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("set clock: %v %v", resp, err)
	}
	resp.Body.Close()
	if err := c.signal(t, syscall.SIGTERM); err != nil {
		t.Fatalf("orgstack exited with %v after SIGTERM, want a clean exit", err)
	}

	c = startChild(t, "--data-dir", dir)
	status, described, err := orgCall(http.DefaultClient, c.url, "DescribeOrganization", "123456789012")
	if err != nil || status != 200 {
		t.Fatalf("DescribeOrganization after restart: %d %v %v", status, described, err)
	}
	if described["Organization"].(map[string]any)["Id"] != created["Organization"].(map[string]any)["Id"] {
		t.Errorf("after restart the organization is %v, want %v", described, created)
	}
	resp, err = http.Get(c.url + "/_orgstack/clock")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Contains(b, []byte(`"now":"2031-05-06T07:08:09Z"`)) || !bytes.Contains(b, []byte(`"mode":"virtual"`)) {
		t.Errorf("virtual clock after restart: %s", b)
	}
}

// TestAcknowledgedWritesSurviveSIGKILL drives writes from several clients,
// kills the server with SIGKILL in the middle, restarts it on the same data
// directory, and requires every write it had acknowledged.
func TestAcknowledgedWritesSurviveSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills server processes")
	}
	dir := t.TempDir()
	c := startChild(t, "--data-dir", dir)

	var (
		mu    sync.Mutex
		acked = map[string]string{} // account -> organization id
		next  atomic.Int64
		stop  atomic.Bool
		wg    sync.WaitGroup
	)
	client := &http.Client{Timeout: 10 * time.Second}
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				account := fmt.Sprintf("5%011d", next.Add(1))
				status, out, err := orgCall(client, c.url, "CreateOrganization", account)
				if err != nil || status != 200 {
					continue // in flight when the server died: not acknowledged
				}
				mu.Lock()
				acked[account] = out["Organization"].(map[string]any)["Id"].(string)
				mu.Unlock()
			}
		}()
	}
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 200 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	c.signal(t, syscall.SIGKILL)
	stop.Store(true)
	wg.Wait()

	c = startChild(t, "--data-dir", dir)
	for account, orgID := range acked {
		status, out, err := orgCall(http.DefaultClient, c.url, "DescribeOrganization", account)
		if err != nil || status != 200 {
			t.Fatalf("acknowledged organization of %s is gone after SIGKILL: %d %v %v", account, status, out, err)
		}
		if got := out["Organization"].(map[string]any)["Id"]; got != orgID {
			t.Fatalf("account %s: organization %v, want %s", account, got, orgID)
		}
	}
	t.Logf("%d acknowledged writes survived SIGKILL", len(acked))
}

func TestParseConfig(t *testing.T) {
	t.Parallel()
	env := map[string]string{"ORGSTACK_LISTEN": "127.0.0.1:9999", "ORGSTACK_CLOCK": "virtual"}
	getenv := func(k string) string { return env[k] }
	cfg, err := parseConfig([]string{"--data-dir", ":memory:", "--clock", "real"}, getenv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != "127.0.0.1:9999" || cfg.DataDir != ":memory:" || cfg.Clock != "real" || cfg.Auth != "open" || cfg.DefaultAccount != "000000000000" {
		t.Errorf("config = %+v", cfg)
	}
	for _, bad := range [][]string{
		{"--auth", "none"}, {"--clock", "fast"}, {"--default-account", "123"}, {"--log-format", "xml"},
		{"--log-level", "loud"}, {"--sync", "off"}, {"extra"},
	} {
		if _, err := parseConfig(bad, getenv, io.Discard); err == nil {
			t.Errorf("parseConfig(%v) accepted bad input", bad)
		}
	}
}

func TestVersionAndUnknownCommand(t *testing.T) {
	t.Parallel()
	if code := run(context.Background(), []string{"version"}); code != 0 {
		t.Errorf("version exited %d", code)
	}
	if code := run(context.Background(), []string{"frobnicate"}); code != 2 {
		t.Errorf("unknown command exited %d, want 2", code)
	}
}
