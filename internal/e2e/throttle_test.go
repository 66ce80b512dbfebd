package e2e

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"
	smithycbor "github.com/aws/smithy-go/encoding/cbor"

	"github.com/orgstack/orgstack/internal/app"
	"github.com/orgstack/orgstack/internal/store/testengine"
	"github.com/orgstack/orgstack/internal/throttle"
)

// throttledEnv is an orgstack started with --throttle spec.
func throttledEnv(t *testing.T, spec string) *env {
	t.Helper()
	limit, err := throttle.ParseLimit(spec)
	if err != nil {
		t.Fatal(err)
	}
	return startEnv(t, testengine.Open(t), app.Config{Version: "test", Throttle: limit})
}

// TestThrottle: --throttle gives each account a token bucket per service;
// over it Organizations answers TooManyRequestsException and Automation
// ThrottlingException.
func TestThrottle(t *testing.T) {
	t.Parallel()
	// A burst of 3 and a token an hour: the fourth request is refused
	// however slowly the test runs.
	e := throttledEnv(t, "1/h,3")
	ctx := context.Background()
	client := e.noRetries(mgmtAccount)
	if _, err := client.CreateOrganization(ctx, &organizations.CreateOrganizationInput{}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := client.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{}); err != nil {
			t.Fatal(err)
		}
	}
	_, err := client.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	var tm *types.TooManyRequestsException
	if !errors.As(err, &tm) || httpStatus(err) != 400 {
		t.Fatalf("over the burst: %v (status %d), want TooManyRequestsException (400)", err, httpStatus(err))
	}
	// Another account, and the same account on Automation, have buckets
	// of their own.
	if _, err := e.noRetries("222222222222").DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{}); !isNotInUse(err) {
		t.Errorf("another account: %v", err)
	}
	for i := range 4 {
		c := e.cborCall(t, "GetEnrollmentConfiguration", mgmtAccount, smithycbor.Map{})
		got := decodeCBORBody(t, c)
		if i < 3 && c.status != 200 {
			t.Fatalf("automation request %d: %d %v", i+1, c.status, got)
		}
		if i == 3 && (c.status != 429 || got["__type"] != acoNamespace+"ThrottlingException") {
			t.Errorf("automation over the burst: %d %v", c.status, got)
		}
	}
}

// TestThrottleSDKRetryerBacksOff: the SDK's standard retryer meets the
// throttling error, backs off, and gets through once a token is back.
func TestThrottleSDKRetryerBacksOff(t *testing.T) {
	t.Parallel()
	e := throttledEnv(t, "1/s,1")
	ctx := context.Background()
	// Takes the one token; the next request comes well within the second
	// that brings it back.
	if _, err := e.noRetries(mgmtAccount).CreateOrganization(ctx, &organizations.CreateOrganizationInput{}); err != nil {
		t.Fatal(err)
	}
	seen := &attempts{}
	cfg := e.awsConfig(mgmtAccount)
	cfg.HTTPClient = &http.Client{Transport: seen}
	cfg.RetryMaxAttempts = 10
	if _, err := organizations.NewFromConfig(cfg).DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{}); err != nil {
		t.Fatalf("with the retryer: %v", err)
	}
	got := seen.seen()
	if len(got) < 2 || got[len(got)-1] != 200 {
		t.Fatalf("the server saw attempts answered %v, want throttled ones and a success last", got)
	}
	for _, s := range got[:len(got)-1] {
		if s != 400 {
			t.Errorf("attempts answered %v, want 400 before the success", got)
		}
	}
}

func isNotInUse(err error) bool {
	var e *types.AWSOrganizationsNotInUseException
	return errors.As(err, &e)
}
