package e2e

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/orgstack/orgstack/internal/app"
	"github.com/orgstack/orgstack/internal/store/testengine"
)

// newInstances starts n orgstacks in this process on one fresh PostgreSQL
// schema, each with its own store (connection pool), clock and runner, as
// n instances behind a load balancer run. It skips without PostgreSQL.
// (cmd/orgstack's TestThreeInstances runs real processes.)
func newInstances(t *testing.T, n int) []*env {
	t.Helper()
	u := testengine.PostgresURL(t)
	schema := testengine.Schema(t, u)
	out := make([]*env, n)
	for i := range out {
		out[i] = startEnv(t, testengine.OpenSchema(t, u, schema), app.Config{Version: "test"})
	}
	return out
}

// TestInstancesShareTheClock: time set and moved through one instance is
// the time of every instance, for the API and for the background work,
// which runs once.
func TestInstancesShareTheClock(t *testing.T) {
	in := newInstances(t, 3)
	a, b, c := in[0], in[1], in[2]
	ctx := context.Background()
	const mgmt = "111122223333"
	start := time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)
	if status, m := a.adminDo(t, "POST", "/_orgstack/clock", `{"set":"2027-03-01T09:00:00Z"}`); status != 200 {
		t.Fatalf("set clock: %d %v", status, m)
	}
	if status, m := b.adminDo(t, "GET", "/_orgstack/clock", ""); status != 200 || m["now"] != "2027-03-01T09:00:00Z" || m["mode"] != "virtual" {
		t.Fatalf("b's clock after a set it: %d %v", status, m)
	}

	if _, err := b.orgs(mgmt).CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: types.OrganizationFeatureSetAll}); err != nil {
		t.Fatal(err)
	}
	var reqIDs []string
	for i, e := range in {
		out, err := e.orgs(mgmt).CreateAccount(ctx, &organizations.CreateAccountInput{
			AccountName: aws.String("shared-" + string(rune('a'+i))), Email: aws.String("shared-" + string(rune('a'+i)) + "@example.com"),
		})
		if err != nil {
			t.Fatalf("CreateAccount through instance %d: %v", i, err)
		}
		if got := aws.ToTime(out.CreateAccountStatus.RequestedTimestamp); !got.Equal(start) {
			t.Errorf("instance %d stamped the request %v, want the shared virtual time %v", i, got, start)
		}
		reqIDs = append(reqIDs, aws.ToString(out.CreateAccountStatus.Id))
	}
	// The creations are due later; moving time through c makes them run,
	// whichever instance's runner picks each up, and c answers only when
	// they are done.
	if status, m := c.adminDo(t, "POST", "/_orgstack/clock", `{"advance":"1h"}`); status != 200 || m["now"] != "2027-03-01T10:00:00Z" {
		t.Fatalf("advance through c: %d %v", status, m)
	}
	for _, id := range reqIDs {
		st, err := a.orgs(mgmt).DescribeCreateAccountStatus(ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: aws.String(id)})
		if err != nil {
			t.Fatal(err)
		}
		if st.CreateAccountStatus.State != types.CreateAccountStateSucceeded {
			t.Errorf("request %s: %s %s", id, st.CreateAccountStatus.State, st.CreateAccountStatus.FailureReason)
		}
	}
	accts, err := b.orgs(mgmt).ListAccounts(ctx, &organizations.ListAccountsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(accts.Accounts) != 1+len(reqIDs) {
		t.Errorf("%d accounts after %d creations, want %d", len(accts.Accounts), len(reqIDs), 1+len(reqIDs))
	}
}

// TestResetThroughOneInstanceIsSeenByAll: a reset through one instance
// voids what the others remember, such as the accounts open mode made on
// first use, and takes their clocks back too.
func TestResetThroughOneInstanceIsSeenByAll(t *testing.T) {
	in := newInstances(t, 2)
	a, b := in[0], in[1]
	const acct = "444455556666"
	if _, err := b.orgs(acct).ListRoots(context.Background(), &organizations.ListRootsInput{}); err == nil {
		t.Fatal("ListRoots outside an organization succeeded")
	}
	if status, _ := a.adminDo(t, "GET", "/_orgstack/accounts/"+acct, ""); status != 200 {
		t.Fatalf("the account b made on first use: %d", status)
	}
	if status, m := b.adminDo(t, "POST", "/_orgstack/clock", `{"set":"2030-01-01T00:00:00Z"}`); status != 200 {
		t.Fatalf("set clock: %d %v", status, m)
	}
	if c := a.do(t, "POST", "/_orgstack/reset", nil, nil); c.status != http.StatusNoContent {
		t.Fatalf("reset: %d %s", c.status, c.body)
	}
	if status, _ := a.adminDo(t, "GET", "/_orgstack/accounts/"+acct, ""); status != 404 {
		t.Fatalf("after the reset the account is %d, want 404", status)
	}
	// b remembered the account; after the reset it must make it again.
	b.orgs(acct).ListRoots(context.Background(), &organizations.ListRootsInput{})
	if status, _ := a.adminDo(t, "GET", "/_orgstack/accounts/"+acct, ""); status != 200 {
		t.Fatalf("after a reset through a, b's first use of the account did not make it: %d", status)
	}
	if status, m := b.adminDo(t, "GET", "/_orgstack/clock", ""); status != 200 || m["mode"] != "real" {
		t.Fatalf("b's clock after the reset: %d %v, want real", status, m)
	}
}

// TestNextTokenFromAnyInstance: a list begun on one instance continues on
// any other, since the signing key is in the store.
func TestNextTokenFromAnyInstance(t *testing.T) {
	in := newInstances(t, 3)
	ctx := context.Background()
	const mgmt = "777788889999"
	org := in[0].orgs(mgmt)
	if _, err := org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{}); err != nil {
		t.Fatal(err)
	}
	roots, err := org.ListRoots(ctx, &organizations.ListRootsInput{})
	if err != nil {
		t.Fatal(err)
	}
	root := roots.Roots[0].Id
	want := map[string]bool{"one": true, "two": true, "three": true}
	for name := range want {
		if _, err := org.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: root, Name: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
	}
	var token *string
	for i := 0; ; i++ {
		page, err := in[i%3].orgs(mgmt).ListOrganizationalUnitsForParent(ctx, &organizations.ListOrganizationalUnitsForParentInput{
			ParentId: root, MaxResults: aws.Int32(1), NextToken: token,
		})
		if err != nil {
			t.Fatalf("page %d on instance %d: %v", i, i%3, err)
		}
		for _, ou := range page.OrganizationalUnits {
			delete(want, aws.ToString(ou.Name))
		}
		if token = page.NextToken; token == nil {
			break
		}
	}
	if len(want) != 0 {
		t.Errorf("OUs never listed: %v", want)
	}
}

// TestHealthWhenTheDatabaseGoesAway cuts the connection between an
// instance and PostgreSQL: health answers 503 and API calls the service's
// internal error, promptly; once the database is back, both recover.
func TestHealthWhenTheDatabaseGoesAway(t *testing.T) {
	u := testengine.PostgresURL(t)
	schema := testengine.Schema(t, u)
	p := startProxy(t, u)
	e := startEnv(t, testengine.OpenSchema(t, p.url(t, u), schema), app.Config{Version: "test"})

	health := func() (int, map[string]any) {
		t.Helper()
		return e.adminDo(t, "GET", "/_orgstack/health", "")
	}
	if status, h := health(); status != 200 || h["status"] != "ok" || h["store"].(map[string]any)["reachable"] != true {
		t.Fatalf("health = %d %v", status, h)
	}
	p.stop()
	if status, h := health(); status != http.StatusServiceUnavailable || h["status"] != "unavailable" || h["store"].(map[string]any)["reachable"] != false {
		t.Fatalf("health without the database = %d %v", status, h)
	}
	if c := e.jsonCall(t, "1.1", "AWSOrganizationsV20161128.DescribeOrganization", "123456789012", "{}"); c.status != 500 {
		t.Fatalf("DescribeOrganization without the database = %d %s", c.status, c.body)
	}
	p.start(t)
	if status, h := health(); status != 200 {
		t.Fatalf("health with the database back = %d %v", status, h)
	}
	if c := e.jsonCall(t, "1.1", "AWSOrganizationsV20161128.DescribeOrganization", "123456789012", "{}"); c.status != 400 {
		t.Fatalf("DescribeOrganization with the database back = %d %s, want 400 (no organization)", c.status, c.body)
	}
}

// tcpProxy forwards connections to PostgreSQL until stopped, which closes
// every connection at once, as a network failure would.
type tcpProxy struct {
	addr, target string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

func startProxy(t *testing.T, dbURL string) *tcpProxy {
	t.Helper()
	pu, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{addr: "127.0.0.1:0", target: pu.Host, conns: map[net.Conn]struct{}{}}
	p.start(t)
	t.Cleanup(p.stop)
	return p
}

// url is dbURL through the proxy.
func (p *tcpProxy) url(t *testing.T, dbURL string) string {
	pu, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	pu.Host = p.addr
	return pu.String()
}

// start listens (again, on the same address after a stop).
func (p *tcpProxy) start(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.wg.Add(1)
			go func() { defer p.wg.Done(); p.forward(c) }()
		}
	}()
}

func (p *tcpProxy) forward(c net.Conn) {
	d, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	if !p.track(c, d) {
		return
	}
	done := make(chan struct{}, 2)
	go func() { io.Copy(d, c); done <- struct{}{} }()
	go func() { io.Copy(c, d); done <- struct{}{} }()
	<-done
	c.Close()
	d.Close()
	<-done
}

// track registers a connection pair, or closes it if the proxy stopped.
func (p *tcpProxy) track(cs ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln == nil {
		for _, c := range cs {
			c.Close()
		}
		return false
	}
	for _, c := range cs {
		p.conns[c] = struct{}{}
	}
	return true
}

func (p *tcpProxy) stop() {
	p.mu.Lock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
	p.mu.Unlock()
	p.wg.Wait()
}
