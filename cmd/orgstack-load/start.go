package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"time"
)

// measureStart starts the command (an orgstack serving the state to
// measure) runs times, each time measuring how long it takes from the
// start of the process to the first successful DescribeOrganization
// answer, and then stops it with SIGTERM.
func measureStart(ctx context.Context, cfg config, command []string, runs int, out, progress io.Writer) error {
	if len(command) == 0 {
		return errors.New("--measure-start: give the command that starts orgstack after --, e.g. -- orgstack serve --data-dir DIR")
	}
	var times []time.Duration
	for i := range runs {
		d, err := startOnce(ctx, cfg, command)
		if err != nil {
			return fmt.Errorf("run %d: %w", i+1, err)
		}
		fmt.Fprintf(progress, "  start %d: first answer after %s\n", i+1, fmtDur(d))
		times = append(times, d)
	}
	slices.Sort(times)
	median := times[len(times)/2]
	if cfg.markdown {
		name := cfg.label
		if name == "" {
			name = "`" + strings.Join(command, " ") + "`"
		}
		fmt.Fprintln(out, "| start to first answer | min | median | max | runs |")
		fmt.Fprintln(out, "|---|---:|---:|---:|---:|")
		fmt.Fprintf(out, "| %s | %s | %s | %s | %d |\n", name, fmtDur(times[0]), fmtDur(median), fmtDur(times[len(times)-1]), runs)
		return nil
	}
	fmt.Fprintf(out, "start to first answer over %d runs: min %s, median %s, max %s\n", runs, fmtDur(times[0]), fmtDur(median), fmtDur(times[len(times)-1]))
	return nil
}

func startOnce(ctx context.Context, cfg config, command []string) (time.Duration, error) {
	cmd := exec.Command(command[0], command[1:]...)
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	poll := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() error {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			return err
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			return errors.New("did not stop within 30 s of SIGTERM")
		}
	}
	deadline := start.Add(60 * time.Second)
	for {
		ok, err := answers(ctx, poll, cfg.endpoints[0], cfg.management)
		if ok {
			d := time.Since(start)
			if err := stop(); err != nil {
				var exit *exec.ExitError
				if !errors.As(err, &exit) {
					return d, err
				}
			}
			return d, nil
		}
		select {
		case err := <-exited:
			return 0, fmt.Errorf("%s exited before answering: %v", command[0], err)
		case <-ctx.Done():
			stop()
			return 0, ctx.Err()
		case <-time.After(time.Millisecond):
		}
		if time.Now().After(deadline) {
			stop()
			return 0, fmt.Errorf("no answer within 60 s (last: %v)", err)
		}
	}
}

// answers sends DescribeOrganization as the management account and says
// whether it got a successful answer.
func answers(ctx context.Context, c *http.Client, endpoint, account string) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint+"/", bytes.NewReader([]byte("{}")))
	if err != nil {
		return false, err
	}
	now := time.Now().UTC()
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AWSOrganizationsV20161128.DescribeOrganization")
	req.Header.Set("X-Amz-Date", now.Format("20060102T150405Z"))
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+account+"/"+now.Format("20060102")+
		"/us-east-1/organizations/aws4_request, SignedHeaders=host;x-amz-date, Signature="+strings.Repeat("0", 64))
	resp, err := c.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Errorf("HTTP %d: %s", resp.StatusCode, b)
	}
	return true, nil
}
