package e2e

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

func adminJSON(t *testing.T, c rawCall) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(c.body, &m); err != nil {
		t.Fatalf("admin response is not JSON: %v: %q", err, c.body)
	}
	return m
}

func TestAdminHealth(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.do(t, "GET", "/_orgstack/health", nil, nil)
	h := adminJSON(t, c)
	if c.status != 200 || h["version"] != "test" || h["auth"] != "open" {
		t.Fatalf("health = %d %v", c.status, h)
	}
	if svcs, _ := h["services"].([]any); len(svcs) != 2 {
		t.Errorf("services = %v", h["services"])
	}
	if st, _ := h["store"].(map[string]any); st["engine"] != e.Store.Info().Engine {
		t.Errorf("store = %v", h["store"])
	}
	if _, ok := h["uptimeSeconds"].(float64); !ok {
		t.Errorf("uptimeSeconds = %v", h["uptimeSeconds"])
	}
}

func TestAdminResetWipesState(t *testing.T) {
	t.Parallel()
	for _, reset := range []struct{ path, want string }{
		{"/_orgstack/reset", ""},
		{"/moto-api/reset", `{"status":"ok"}`},
		{"/_localstack/state/reset", "{}"},
	} {
		t.Run(reset.path, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			if c := e.jsonCall(t, "1.1", "AWSOrganizationsV20161128.CreateOrganization", mgmtAccount, "{}"); c.status != 200 {
				t.Fatal(c.status)
			}
			e.Clock.Set(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
			c := e.do(t, "POST", reset.path, nil, nil)
			if c.status/100 != 2 {
				t.Fatalf("reset: %d %s", c.status, c.body)
			}
			if reset.want != "" && !jsonEqual(t, c.body, reset.want) {
				t.Errorf("reset answered %s, want %s", c.body, reset.want)
			}
			d := e.jsonCall(t, "1.1", "AWSOrganizationsV20161128.DescribeOrganization", mgmtAccount, "{}")
			if got := decodeJSONBody(t, d)["__type"]; got != "AWSOrganizationsNotInUseException" {
				t.Errorf("after reset DescribeOrganization answered %v", got)
			}
			if got := adminJSON(t, e.do(t, "GET", "/_orgstack/clock", nil, nil)); got["mode"] != "real" {
				t.Errorf("after reset the clock is %v, want real again", got)
			}
		})
	}
}

func TestMotoResetWantsPost(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if c := e.do(t, "GET", "/moto-api/reset", nil, nil); c.status != http.StatusBadRequest {
		t.Errorf("GET /moto-api/reset = %d, want 400 as moto answers", c.status)
	}
}

func TestAdminClock(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	got := adminJSON(t, e.do(t, "GET", "/_orgstack/clock", nil, nil))
	if got["mode"] != "real" {
		t.Fatalf("clock = %v", got)
	}
	c := e.do(t, "POST", "/_orgstack/clock", nil, []byte(`{"set":"2026-03-01T10:00:00Z"}`))
	got = adminJSON(t, c)
	if c.status != 200 || got["mode"] != "virtual" || got["now"] != "2026-03-01T10:00:00Z" {
		t.Fatalf("set: %d %v", c.status, got)
	}
	c = e.do(t, "POST", "/_orgstack/clock", nil, []byte(`{"advance":"36h"}`))
	got = adminJSON(t, c)
	if c.status != 200 || got["now"] != "2026-03-02T22:00:00Z" {
		t.Fatalf("advance: %d %v", c.status, got)
	}
	// Virtual time is what the services see.
	if !e.Clock.Now().Equal(time.Date(2026, 3, 2, 22, 0, 0, 0, time.UTC)) {
		t.Errorf("service clock = %v", e.Clock.Now())
	}
	for _, bad := range []string{`{}`, `{"set":"yesterday"}`, `{"advance":"-1h"}`, `{"advance":"soon"}`, `{"set":"2026-01-01T00:00:00Z","advance":"1h"}`, `{"warp":"1h"}`, `not json`} {
		c := e.do(t, "POST", "/_orgstack/clock", nil, []byte(bad))
		if c.status != 400 {
			t.Errorf("POST clock %s = %d, want 400", bad, c.status)
		}
	}
	if got := adminJSON(t, e.do(t, "GET", "/_orgstack/clock", nil, nil)); got["now"] != "2026-03-02T22:00:00Z" {
		t.Errorf("a refused clock change moved the clock: %v", got)
	}
}

func TestLocalStackHealth(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	got := adminJSON(t, e.do(t, "GET", "/_localstack/health", nil, nil))
	svcs, _ := got["services"].(map[string]any)
	if svcs["organizations"] != "running" || svcs["aco-automation"] != "running" {
		t.Errorf("LocalStack health = %v", got)
	}
}

func TestUnknownAdminPath(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if c := e.do(t, "GET", "/_orgstack/nothing", nil, nil); c.status != 404 {
		t.Errorf("unknown admin path = %d", c.status)
	}
}

func jsonEqual(t *testing.T, got []byte, want string) bool {
	var a, b any
	if json.Unmarshal(got, &a) != nil || json.Unmarshal([]byte(want), &b) != nil {
		return false
	}
	ab, _ := json.Marshal(a)
	bb, _ := json.Marshal(b)
	return string(ab) == string(bb)
}

// TestListsWorkAfterReset: every List operation reads in a read-only
// transaction, so the NextToken signing key must exist from the start and
// again right after a reset — even for a caller that never wrote anything.
func TestListsWorkAfterReset(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for round := 0; round < 2; round++ {
		c := e.jsonCall(t, "1.1", "AWSOrganizationsV20161128.ListHandshakesForAccount", "919191919191", "{}")
		if c.status != 200 {
			t.Fatalf("round %d: ListHandshakesForAccount = %d %s", round, c.status, c.body)
		}
		if r := e.do(t, "POST", "/_orgstack/reset", nil, nil); r.status != 204 {
			t.Fatalf("reset: %d %s", r.status, r.body)
		}
	}
}
