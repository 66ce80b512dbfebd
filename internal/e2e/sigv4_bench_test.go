package e2e

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
)

// BenchmarkDescribeOrganizationAuth compares DescribeOrganization through
// the Go SDK against --auth open and --auth sigv4 in one run, so that the
// figures share the machine's state. The difference is what verifying
// every signature (a key lookup in the store, the canonical request, one
// HMAC with a cached signing key) costs end to end:
//
//	go test ./internal/e2e -run '^$' -bench DescribeOrganizationAuth -cpu 2 -count 5
func BenchmarkDescribeOrganizationAuth(b *testing.B) {
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))

	open := newEnvWith(b, log)
	openCfg := open.awsConfig(mgmtAccount)

	signed := newSigV4EnvWith(b, log)
	_, creds := signed.registerSigned(b, "")
	signedCfg := signed.configWith(creds)

	for _, cfg := range []aws.Config{openCfg, signedCfg} {
		if _, err := organizations.NewFromConfig(cfg).CreateOrganization(ctx, &organizations.CreateOrganizationInput{}); err != nil {
			b.Fatal(err)
		}
	}
	run := func(b *testing.B, cfg aws.Config) {
		cfg.HTTPClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
		client := organizations.NewFromConfig(cfg)
		b.ReportAllocs()
		b.ResetTimer()
		defer reportCPU(b)()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				out, err := client.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
				if err != nil || out.Organization == nil {
					b.Errorf("DescribeOrganization: %v", err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
	}
	b.Run("open", func(b *testing.B) { run(b, openCfg) })
	b.Run("sigv4", func(b *testing.B) { run(b, signedCfg) })
}

// BenchmarkServerDescribeOrganizationAuth is the server's own cost of a
// DescribeOrganization, open against sigv4, without a client or a socket:
// one request signed by the Go SDK's signer is replayed into the handler
// (a signature stays valid for five minutes), so the difference is exactly
// what authentication adds on the server.
func BenchmarkServerDescribeOrganizationAuth(b *testing.B) {
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	open := newEnvWith(b, log)
	signed := newSigV4EnvWith(b, log)
	_, creds := signed.registerSigned(b, "")
	for _, cfg := range []aws.Config{open.awsConfig(mgmtAccount), signed.configWith(creds)} {
		if _, err := organizations.NewFromConfig(cfg).CreateOrganization(ctx, &organizations.CreateOrganizationInput{}); err != nil {
			b.Fatal(err)
		}
	}
	header := map[string]string{
		"Content-Type": "application/x-amz-json-1.1",
		"X-Amz-Target": "AWSOrganizationsV20161128.DescribeOrganization",
	}
	run := func(b *testing.B, e *env, c aws.Credentials) {
		req := signedRequest(b, e.URL, c, "organizations", header, []byte("{}"), time.Now())
		h := e.App.Handler()
		b.ReportAllocs()
		b.ResetTimer()
		defer reportCPU(b)()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				r := req.Clone(ctx)
				r.Body = io.NopCloser(strings.NewReader("{}"))
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != 200 {
					b.Errorf("DescribeOrganization: %d %s", w.Code, w.Body)
					return
				}
			}
		})
	}
	b.Run("open", func(b *testing.B) { run(b, open, aws.Credentials{AccessKeyID: mgmtAccount, SecretAccessKey: "x"}) })
	b.Run("sigv4", func(b *testing.B) { run(b, signed, creds) })
}

// reportCPU reports the process's CPU time per operation (client and
// server together for the end-to-end benchmark). On a shared machine the
// wall-clock figures swing with other processes' load; CPU time per
// request barely does, so it is the figure to compare open and sigv4 by.
func reportCPU(b *testing.B) func() {
	start := cpuTime()
	return func() {
		b.ReportMetric(float64((cpuTime()-start).Microseconds())/float64(b.N), "cpu-µs/op")
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
