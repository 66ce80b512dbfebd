package throttle

import (
	"context"
	"strconv"
	"testing"
	"time"

	acoapi "github.com/orgstack/orgstack/internal/api/automation"
	orgapi "github.com/orgstack/orgstack/internal/api/organizations"
	"github.com/orgstack/orgstack/internal/protocol"
)

func TestParseLimit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want Limit
	}{
		{"", Limit{}},
		{"off", Limit{}},
		{"0", Limit{}},
		{"20/s", Limit{Rate: 20, Burst: 20}},
		{"20", Limit{Rate: 20, Burst: 20}},
		{" 20/s , 40 ", Limit{Rate: 20, Burst: 40}},
		{"600/m", Limit{Rate: 10, Burst: 10}},
		{"3600/h,5", Limit{Rate: 1, Burst: 5}},
		{"0.5/s", Limit{Rate: 0.5, Burst: 1}},
		{"2.5", Limit{Rate: 2.5, Burst: 3}},
	} {
		got, err := ParseLimit(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseLimit(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"fast", "-1/s", "20/d", "20/s,0", "20/s,x", "20/s,1.5", "NaN", "Inf", "/s", "20/s,"} {
		if l, err := ParseLimit(bad); err == nil {
			t.Errorf("ParseLimit(%q) = %+v, want an error", bad, l)
		}
	}
}

func TestLimitString(t *testing.T) {
	t.Parallel()
	if s := (Limit{}).String(); s != "off" {
		t.Errorf("zero limit = %q", s)
	}
	l, _ := ParseLimit("20/s,40")
	if back, err := ParseLimit(l.String()); err != nil || back != l {
		t.Errorf("%q does not parse back: %+v %v", l.String(), back, err)
	}
}

// fakeTime is a clock the test moves by hand.
type fakeTime struct{ t time.Time }

func (f *fakeTime) now() time.Time          { return f.t }
func (f *fakeTime) advance(d time.Duration) { f.t = f.t.Add(d) }

func newLimiter(t *testing.T, spec string, clk *fakeTime) *Limiter {
	t.Helper()
	l, err := ParseLimit(spec)
	if err != nil {
		t.Fatal(err)
	}
	lim, err := New(Options{
		Limit:      l,
		Services:   []*protocol.Service{orgapi.Service, acoapi.Service},
		ErrorCodes: map[string]string{"organizations": "TooManyRequestsException", "automation": "ThrottlingException"},
		Now:        clk.now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return lim
}

func TestLimiterBucket(t *testing.T) {
	t.Parallel()
	clk := &fakeTime{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	lim := newLimiter(t, "2/s,3", clk)
	ctx := context.Background()
	op := orgapi.Service.Operation("DescribeOrganization")
	call := func(account string) protocol.APIError {
		e, err := lim.Inject(ctx, orgapi.Service, op, account)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	// The burst passes, the next one is refused.
	for i := range 3 {
		if e := call("111111111111"); e != nil {
			t.Fatalf("request %d of the burst refused: %v", i+1, e)
		}
	}
	e := call("111111111111")
	if _, ok := e.(*orgapi.TooManyRequestsException); !ok {
		t.Fatalf("over the burst: %T %v, want TooManyRequestsException", e, e)
	}
	// Another account has its own bucket.
	if e := call("222222222222"); e != nil {
		t.Errorf("another account refused: %v", e)
	}
	// So has the same account on another service.
	aop := acoapi.Service.Operation("ListAccounts")
	if e, _ := lim.Inject(ctx, acoapi.Service, aop, "111111111111"); e != nil {
		t.Errorf("same account on automation refused: %v", e)
	}
	// Half a second refills one token at 2/s: one passes, the next not.
	clk.advance(500 * time.Millisecond)
	if e := call("111111111111"); e != nil {
		t.Errorf("after refill: %v", e)
	}
	if e := call("111111111111"); e == nil {
		t.Error("second request after one token's refill passed")
	}
	// A long pause refills to the burst, no further.
	clk.advance(time.Hour)
	for i := range 3 {
		if e := call("111111111111"); e != nil {
			t.Fatalf("request %d after a pause refused: %v", i+1, e)
		}
	}
	if e := call("111111111111"); e == nil {
		t.Error("the bucket filled beyond its burst")
	}
}

func TestLimiterAutomationError(t *testing.T) {
	t.Parallel()
	clk := &fakeTime{t: time.Unix(0, 0)}
	lim := newLimiter(t, "1/h,1", clk)
	op := acoapi.Service.Operation("ListAccounts")
	lim.Inject(context.Background(), acoapi.Service, op, "111111111111")
	e, _ := lim.Inject(context.Background(), acoapi.Service, op, "111111111111")
	te, ok := e.(*acoapi.ThrottlingException)
	if !ok || te.HTTPStatus() != 429 {
		t.Fatalf("got %T %v, want ThrottlingException (429)", e, e)
	}
}

func TestLimiterPrunesFullBuckets(t *testing.T) {
	t.Parallel()
	clk := &fakeTime{t: time.Unix(0, 0)}
	lim := newLimiter(t, "1/s,1", clk)
	op := orgapi.Service.Operation("DescribeOrganization")
	for i := range pruneAbove {
		lim.Inject(context.Background(), orgapi.Service, op, strconv.Itoa(i))
	}
	if len(lim.buckets) != pruneAbove {
		t.Fatalf("%d buckets, want %d", len(lim.buckets), pruneAbove)
	}
	// Once every bucket has refilled, a new caller's arrival drops them.
	clk.advance(time.Second)
	lim.Inject(context.Background(), orgapi.Service, op, "new")
	if len(lim.buckets) != 1 {
		t.Errorf("%d buckets after pruning, want 1", len(lim.buckets))
	}
}

func TestNewRefusesUndeclaredCodes(t *testing.T) {
	t.Parallel()
	_, err := New(Options{
		Limit:      Limit{Rate: 1, Burst: 1},
		Services:   []*protocol.Service{acoapi.Service},
		ErrorCodes: map[string]string{"automation": "TooManyRequestsException"},
	})
	if err == nil {
		t.Error("automation with TooManyRequestsException accepted; its model has no such error")
	}
	if _, err := New(Options{Services: []*protocol.Service{orgapi.Service}}); err == nil {
		t.Error("zero limit accepted")
	}
}

// BenchmarkLimiter is the cost --throttle adds to a request that passes.
func BenchmarkLimiter(b *testing.B) {
	lim, err := New(Options{
		Limit:      Limit{Rate: 1e9, Burst: 1 << 30},
		Services:   []*protocol.Service{orgapi.Service},
		ErrorCodes: map[string]string{"organizations": "TooManyRequestsException"},
	})
	if err != nil {
		b.Fatal(err)
	}
	op := orgapi.Service.Operation("DescribeOrganization")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if e, _ := lim.Inject(context.Background(), orgapi.Service, op, "111111111111"); e != nil {
				b.Fatal(e)
			}
		}
	})
}
