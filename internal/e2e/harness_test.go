// Package e2e drives a whole orgstack server, in process, with real
// clients: the AWS SDK for Go v2, literal JSON and CBOR encoded by
// smithy-go, and, where installed, the AWS CLI and boto3.
package e2e

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/organizations"

	acoapi "github.com/orgstack/orgstack/internal/api/automation"
	orgapi "github.com/orgstack/orgstack/internal/api/organizations"
	"github.com/orgstack/orgstack/internal/automation"
	"github.com/orgstack/orgstack/internal/clock"
	orgdomain "github.com/orgstack/orgstack/internal/organizations"
	"github.com/orgstack/orgstack/internal/server"
	"github.com/orgstack/orgstack/internal/store"
	"github.com/orgstack/orgstack/internal/store/sqlite"
)

// env is one running orgstack under test.
type env struct {
	URL   string
	Store store.Store
	Clock *clock.Controlled
}

// newEnv starts an orgstack with a throwaway store and returns its URL.
func newEnv(t testing.TB) *env {
	t.Helper()
	var log *slog.Logger
	if os.Getenv("ORGSTACK_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return newEnvWith(t, log)
}

// newEnvWith starts an orgstack that logs to log (nowhere when nil).
func newEnvWith(t testing.TB, log *slog.Logger) *env {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, sqlite.Options{Path: ":memory:"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clk := clock.New(clock.Real, nil)
	orgs := orgdomain.New(orgdomain.Options{Store: st, Clock: clk})
	aco := automation.New(automation.Options{Store: st, Clock: clk})
	srv, err := server.New(ctx, server.Options{
		Store:   st,
		Clock:   clk,
		Logger:  log,
		Version: "test",
		Backends: []server.Backend{
			{Service: orgapi.Service, Invoke: orgapi.Invoker(orgs), ValidationError: orgdomain.ValidationError},
			{Service: acoapi.Service, Invoke: acoapi.Invoker(aco), ValidationError: automation.ValidationError},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return &env{URL: hs.URL, Store: st, Clock: clk}
}

// awsConfig is an SDK configuration acting as the given 12-digit account.
func (e *env) awsConfig(account string) aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider(account, "orgstack-test-secret", ""),
		BaseEndpoint: aws.String(e.URL),
		HTTPClient:   http.DefaultClient,
	}
}

// orgs is an Organizations client acting as the given account.
func (e *env) orgs(account string) *organizations.Client {
	return organizations.NewFromConfig(e.awsConfig(account))
}
