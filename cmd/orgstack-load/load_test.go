package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/orgstack/orgstack/internal/app"
	"github.com/orgstack/orgstack/internal/store/sqlite"
)

// TestMain lets the test binary be the bare process that --baseline-process
// starts, as the tool itself would be.
func TestMain(m *testing.M) {
	if len(os.Args) == 3 && os.Args[1] == "--serve-recorded" {
		if err := serveRecordedFile(os.Args[2], os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// newServer starts an in-process orgstack on a throwaway store.
func newServer(t *testing.T) string {
	t.Helper()
	st, err := sqlite.Open(t.Context(), sqlite.Options{Path: sqlite.Memory})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	a, err := app.New(t.Context(), st, app.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	hs := httptest.NewServer(a.Handler())
	t.Cleanup(hs.Close)
	return hs.URL
}

// TestEveryOperation runs each operation of the tool, and its baselines,
// briefly against orgstack behind two endpoints, in two rounds: the tool
// must prepare what each needs and every call must succeed, in the second
// round too (a baseline run must not leave the clients believing what its
// answers said).
func TestEveryOperation(t *testing.T) {
	if testing.Short() {
		t.Skip("drives a server for a few seconds; skipped with -short")
	}
	url := newServer(t)
	mix, err := parseMix(strings.Join(operationNames(), ","))
	if err != nil {
		t.Fatal(err)
	}
	cfg := config{
		endpoints: []string{url, url}, mix: "", concurrency: 2, duration: 150 * time.Millisecond,
		seed: 30, volumes: 300, management: "100000000001", baseline: true, baselineProcess: true, each: true, markdown: true, rounds: 2,
	}
	var out, progress bytes.Buffer
	if err := load(context.Background(), cfg, mix, &out, &progress); err != nil {
		t.Fatalf("load: %v\n%s", err, progress.String())
	}
	table := out.String()
	for _, op := range operations {
		row := ""
		for _, l := range strings.Split(table, "\n") {
			if strings.HasPrefix(l, "| "+op.title+" |") {
				row = l
			}
		}
		if row == "" {
			t.Errorf("no row for %s in\n%s", op.name, table)
			continue
		}
		// Columns: name, throughput, p50, p99, max, errors, then two
		// baselines with a throughput, a p99 and a ratio each.
		cols := strings.Split(row, "|")
		if len(cols) != 14 || strings.TrimSpace(cols[6]) != "0" {
			t.Errorf("%s: %s\n%s", op.name, row, progress.String())
			continue
		}
		for _, ratio := range []string{cols[9], cols[12]} {
			if !strings.HasSuffix(strings.TrimSpace(ratio), "%") {
				t.Errorf("%s: no ratio to a baseline in %s", op.name, row)
			}
		}
	}
	if !strings.Contains(table, "| ListAccounts (full walk), per page |") {
		t.Errorf("no per-page row for the ListAccounts walk in\n%s", table)
	}
}

func TestParseMix(t *testing.T) {
	mix, err := parseMix("describe-account=3, tag-resource")
	if err != nil || len(mix) != 2 || mix[0].weight != 3 || mix[1].weight != 1 || mix[1].op.name != "tag-resource" {
		t.Errorf("parseMix = %+v, %v", mix, err)
	}
	for _, bad := range []string{"nope", "describe-account=0", "describe-account=x"} {
		if _, err := parseMix(bad); err == nil {
			t.Errorf("parseMix(%q) succeeded", bad)
		}
	}
}

func TestPercentile(t *testing.T) {
	var l []time.Duration
	for i := 1; i <= 100; i++ {
		l = append(l, time.Duration(i))
	}
	for p, want := range map[int]time.Duration{50: 50, 90: 90, 99: 99, 100: 100} {
		if got := pct(l, p); got != want {
			t.Errorf("p%d = %d; want %d", p, got, want)
		}
	}
	if got := pct(nil, 50); got != -1 {
		t.Errorf("p50 of nothing = %d", got)
	}
}
