package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"

	"github.com/orgstack/orgstack/internal/accounts"
	"github.com/orgstack/orgstack/internal/store"
)

// seedMembers writes n invited member accounts straight into the store,
// in batches, the way an accepted invitation records them, so that a
// benchmark starts from a large organization in seconds.
func seedMembers(b testing.TB, e *env, f orgFixture, n int) []string {
	b.Helper()
	ids := make([]string, 0, n)
	now := e.Clock.Now()
	for start := 0; start < n; start += 1000 {
		err := e.Store.Write(context.Background(), func(tx store.Tx) error {
			for i := start; i < min(start+1000, n); i++ {
				id := fmt.Sprintf("9%011d", i)
				if err := accounts.Create(tx, &accounts.Account{ID: id, Email: id + "@example.com", Name: "m" + id, CreatedAt: now, Origin: accounts.OriginAdmin, Standalone: accounts.FullStandalone}); err != nil {
					return err
				}
				m := map[string]any{"accountId": id, "orgId": f.ID, "parentId": f.RootID, "status": "ACTIVE", "joinedMethod": "INVITED", "joinedAt": now}
				if err := store.PutJSON(tx, "org.members", id, m); err != nil {
					return err
				}
				if err := tx.Put("org.org-accounts", f.ID+"/"+id, nil); err != nil {
					return err
				}
				if err := tx.Put("org.children", f.RootID+"/ACCOUNT/"+id, nil); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	for i := range n {
		ids = append(ids, fmt.Sprintf("9%011d", i))
	}
	return ids
}

// seedOU writes an OU under the root straight into the store, the way
// CreateOrganizationalUnit records one, so that these tests do not depend
// on the OU operations.
func seedOU(t testing.TB, e *env, f orgFixture, suffix string) string {
	t.Helper()
	ouID := "ou-" + f.RootID[2:] + "-" + suffix
	err := e.Store.Write(context.Background(), func(tx store.Tx) error {
		if err := store.PutJSON(tx, "org.ous", ouID, map[string]any{"id": ouID, "orgId": f.ID, "parentId": f.RootID, "name": suffix}); err != nil {
			return err
		}
		if err := tx.Put("org.org-ous", f.ID+"/"+ouID, nil); err != nil {
			return err
		}
		if err := tx.Put("org.ou-names", f.RootID+"/"+suffix, []byte(ouID)); err != nil {
			return err
		}
		n := 0
		if v, err := tx.Get("org.counts", f.ID+"/ous"); err == nil {
			n, _ = strconv.Atoi(string(v))
		}
		if err := tx.Put("org.counts", f.ID+"/ous", []byte(strconv.Itoa(n+1))); err != nil {
			return err
		}
		return tx.Put("org.children", f.RootID+"/ORGANIZATIONAL_UNIT/"+ouID, nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	return ouID
}

// benchOrg creates an organization managed by mgmtAccount.
func benchOrg(b testing.TB, e *env) orgFixture {
	b.Helper()
	out, err := e.orgs(mgmtAccount).CreateOrganization(context.Background(), &organizations.CreateOrganizationInput{})
	if err != nil {
		b.Fatal(err)
	}
	var m struct {
		ParentID string `json:"parentId"`
	}
	err = e.Store.Read(context.Background(), func(tx store.Tx) error {
		v, err := store.GetJSON[struct {
			ParentID string `json:"parentId"`
		}](tx, "org.members", mgmtAccount)
		if err == nil {
			m.ParentID = v.ParentID
		}
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	return orgFixture{ID: aws.ToString(out.Organization.Id), RootID: m.ParentID, Mgmt: mgmtAccount}
}

func benchClient(e *env) *organizations.Client {
	cfg := e.awsConfig(mgmtAccount)
	cfg.HTTPClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	return organizations.NewFromConfig(cfg)
}

// BenchmarkListAccounts10k pages through an organization of 10,001
// accounts, 20 per page. A page costs one range scan of the org's account
// index from the token's position, so the first and last pages cost the
// same: compare the ns/page of the whole walk with the first page alone.
//
//	go test ./internal/e2e -run '^$' -bench 'ListAccounts10k' -benchtime 3x
func BenchmarkListAccounts10k(b *testing.B) {
	e := newBenchEnv(b)
	f := benchOrg(b, e)
	seedMembers(b, e, f, 10000)
	client := benchClient(e)
	ctx := context.Background()
	b.Run("walk", func(b *testing.B) {
		pages := 0
		for b.Loop() {
			var tok *string
			n := 0
			for {
				out, err := client.ListAccounts(ctx, &organizations.ListAccountsInput{NextToken: tok})
				if err != nil {
					b.Fatal(err)
				}
				n += len(out.Accounts)
				pages++
				if tok = out.NextToken; tok == nil {
					break
				}
			}
			if n != 10001 {
				b.Fatalf("walk saw %d accounts", n)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(pages), "ns/page")
	})
	b.Run("page-400", func(b *testing.B) {
		// A full page deep in the list: it must cost what the first does.
		var tok *string
		for range 399 {
			out, err := client.ListAccounts(ctx, &organizations.ListAccountsInput{NextToken: tok})
			if err != nil {
				b.Fatal(err)
			}
			tok = out.NextToken
		}
		for b.Loop() {
			out, err := client.ListAccounts(ctx, &organizations.ListAccountsInput{NextToken: tok})
			if err != nil || len(out.Accounts) != 20 {
				b.Fatalf("page 400: %d accounts, %v", len(out.Accounts), err)
			}
		}
	})
	b.Run("first-page", func(b *testing.B) {
		for b.Loop() {
			if _, err := client.ListAccounts(ctx, &organizations.ListAccountsInput{}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkDescribeAccount measures DescribeAccount in an organization of
// 1,001 accounts, from parallel clients.
func BenchmarkDescribeAccount(b *testing.B) {
	e := newBenchEnv(b)
	f := benchOrg(b, e)
	ids := seedMembers(b, e, f, 1000)
	client := benchClient(e)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			if _, err := client.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String(ids[i%len(ids)])}); err != nil {
				b.Errorf("DescribeAccount: %v", err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// BenchmarkMoveAccount moves accounts between the root and an OU, each
// move one write transaction.
func BenchmarkMoveAccount(b *testing.B) {
	e := newBenchEnv(b)
	f := benchOrg(b, e)
	ids := seedMembers(b, e, f, 1000)
	ouID := seedOU(b, e, f, "benchmark")
	client := benchClient(e)
	ctx := context.Background()
	in := make([]bool, len(ids)) // whether each account is in the OU
	b.ReportAllocs()
	start := time.Now()
	n := 0
	for b.Loop() {
		i := n % len(ids)
		src, dst := f.RootID, ouID
		if in[i] {
			src, dst = dst, src
		}
		if _, err := client.MoveAccount(ctx, &organizations.MoveAccountInput{AccountId: aws.String(ids[i]), SourceParentId: aws.String(src), DestinationParentId: aws.String(dst)}); err != nil {
			b.Fatalf("MoveAccount: %v", err)
		}
		in[i] = !in[i]
		n++
	}
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "moves/s")
}

// BenchmarkListAccountsPage reads one page of 20 accounts at the start, in
// the middle and at the end of organizations of 1,000 and 100,000
// accounts: a page costs a range scan of the organization's account index
// from the token's position and the records of the 20 accounts, so every
// figure should be about the same. On a busy machine compare the CPU time
// per page (client and server), which other processes hardly move.
//
//	go test ./internal/e2e -run '^$' -bench ListAccountsPage -benchtime 2000x
func BenchmarkListAccountsPage(b *testing.B) {
	for _, n := range []int{1000, 100000} {
		b.Run(fmt.Sprintf("accounts=%d", n), func(b *testing.B) {
			e := newBenchEnv(b)
			f := benchOrg(b, e)
			seedMembers(b, e, f, n)
			client := benchClient(e)
			ctx := context.Background()
			// Walk once, keeping the tokens of the pages to measure (n
			// members and the management account: the last full page).
			want := map[string]int{"first": 0, "middle": n / 40, "last": (n+1)/20 - 1}
			tokens := map[string]*string{}
			var tok *string
			for page := 0; ; page++ {
				for name, at := range want {
					if at == page {
						tokens[name] = tok
					}
				}
				out, err := client.ListAccounts(ctx, &organizations.ListAccountsInput{NextToken: tok})
				if err != nil {
					b.Fatal(err)
				}
				if tok = out.NextToken; tok == nil {
					break
				}
			}
			for _, name := range []string{"first", "middle", "last"} {
				b.Run(name, func(b *testing.B) {
					defer reportCPU(b)()
					for b.Loop() {
						out, err := client.ListAccounts(ctx, &organizations.ListAccountsInput{NextToken: tokens[name]})
						if err != nil || len(out.Accounts) != 20 {
							b.Fatalf("page %s: %d accounts, %v", name, len(out.Accounts), err)
						}
					}
				})
			}
		})
	}
}
