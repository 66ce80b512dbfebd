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

	"github.com/orgstack/orgstack/internal/app"
	"github.com/orgstack/orgstack/internal/clock"
	"github.com/orgstack/orgstack/internal/store"
	"github.com/orgstack/orgstack/internal/store/testengine"
)

// env is one running orgstack under test.
type env struct {
	URL   string
	Store store.Store
	Clock *clock.Controlled
	App   *app.App
}

// newEnv starts an orgstack with a throwaway store and returns its URL.
// The store is SQLite in memory, or a fresh PostgreSQL schema when
// ORGSTACK_TEST_ENGINE=postgres (see package testengine), so that the
// whole suite runs on either engine.
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
	return startEnv(t, testengine.Open(t), app.Config{Logger: log, Version: "test"})
}

// startEnv starts an orgstack over st, stopped when the test ends, before
// st closes.
func startEnv(t testing.TB, st store.Store, cfg app.Config) *env {
	t.Helper()
	a, err := app.New(context.Background(), st, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close) // before the store closes: cleanups run last-in first-out
	hs := httptest.NewServer(a.Handler())
	t.Cleanup(hs.Close)
	return &env{URL: hs.URL, Store: st, Clock: a.Clock, App: a}
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
