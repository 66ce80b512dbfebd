package e2e

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
)

// BenchmarkDescribeOrganization measures DescribeOrganization through the
// AWS SDK for Go over loopback, against orgstack and against a bare
// net/http handler that answers the very bytes orgstack answered. The ratio
// of the two is orgstack's share of what this machine and client can do:
//
//	go test ./internal/e2e -run '^$' -bench DescribeOrganization -cpu 2
func BenchmarkDescribeOrganization(b *testing.B) {
	e := newBenchEnv(b)
	ctx := context.Background()
	mgmt := e.orgs(mgmtAccount)
	if _, err := mgmt.CreateOrganization(ctx, &organizations.CreateOrganizationInput{}); err != nil {
		b.Fatal(err)
	}

	// Capture orgstack's exact answer for the bare handler.
	c := e.jsonCall(b, "1.1", "AWSOrganizationsV20161128.DescribeOrganization", mgmtAccount, "{}")
	if c.status != 200 {
		b.Fatalf("DescribeOrganization: %d %s", c.status, c.body)
	}
	bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		h := w.Header()
		h["Content-Type"] = []string{"application/x-amz-json-1.1"}
		h["X-Amzn-Requestid"] = []string{c.header.Get("X-Amzn-Requestid")}
		h["Content-Length"] = []string{c.header.Get("Content-Length")}
		w.WriteHeader(200)
		w.Write(c.body)
	}))
	b.Cleanup(bare.Close)

	run := func(b *testing.B, url string) {
		cfg := e.awsConfig(mgmtAccount)
		cfg.BaseEndpoint = aws.String(url)
		cfg.HTTPClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
		client := organizations.NewFromConfig(cfg)
		b.ReportAllocs()
		b.ResetTimer()
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
	b.Run("orgstack", func(b *testing.B) { run(b, e.URL) })
	b.Run("bare", func(b *testing.B) { run(b, bare.URL) })
}

// newBenchEnv is newEnv with an access log that is formatted but not
// written, so that the figure includes the logging work without the
// terminal's speed.
func newBenchEnv(b *testing.B) *env {
	b.Helper()
	return newEnvWith(b, slog.New(slog.NewTextHandler(io.Discard, nil)))
}
