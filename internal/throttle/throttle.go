// Package throttle limits the request rate of each account to each
// service, as AWS does, so that users can see their clients meet
// throttling errors and back off. Buckets live in the process: with
// several instances behind a balancer each enforces the limit alone.
package throttle

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/orgstack/orgstack/internal/protocol"
)

// Limit is a token bucket's shape: Rate tokens a second, up to Burst.
// The zero Limit means no throttling.
type Limit struct {
	Rate  float64 // per second
	Burst int
}

// Enabled says whether the limit throttles at all.
func (l Limit) Enabled() bool { return l.Rate > 0 }

func (l Limit) String() string {
	if !l.Enabled() {
		return "off"
	}
	return strconv.FormatFloat(l.Rate, 'g', -1, 64) + "/s," + strconv.Itoa(l.Burst)
}

// ParseLimit reads "rate[/unit][,burst]": "20/s", "20" (per second),
// "600/m,50", "0.5/s,1". The unit is s, m or h; the burst defaults to one
// second's worth of requests, at least 1. "", "0" and "off" mean no limit.
func ParseLimit(s string) (Limit, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "off" || s == "0" {
		return Limit{}, nil
	}
	ratePart, burstPart, hasBurst := strings.Cut(s, ",")
	num, unit, hasUnit := strings.Cut(strings.TrimSpace(ratePart), "/")
	n, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || n <= 0 || math.IsInf(n, 0) || math.IsNaN(n) {
		return Limit{}, fmt.Errorf("%q: the rate must be a positive number, as in 20/s", s)
	}
	per := time.Second
	if hasUnit {
		switch strings.TrimSpace(unit) {
		case "s":
		case "m":
			per = time.Minute
		case "h":
			per = time.Hour
		default:
			return Limit{}, fmt.Errorf("%q: the unit must be s, m or h", s)
		}
	}
	l := Limit{Rate: n / per.Seconds()}
	l.Burst = max(1, int(math.Ceil(l.Rate)))
	if hasBurst {
		b, err := strconv.Atoi(strings.TrimSpace(burstPart))
		if err != nil || b < 1 {
			return Limit{}, fmt.Errorf("%q: the burst must be a whole number of at least 1", s)
		}
		l.Burst = b
	}
	return l, nil
}

// Options configure a Limiter.
type Options struct {
	Limit Limit
	// Services are the services throttled; ErrorCodes maps each one's Name
	// to the modelled exception its over-limit requests get.
	Services   []*protocol.Service
	ErrorCodes map[string]string
	// Now is the time buckets fill by; nil means time.Now. Rate limits are
	// about real time, never the orgstack clock, which may stand still.
	Now func() time.Time
}

// Limiter holds a token bucket per account and service.
type Limiter struct {
	limit Limit
	codes map[string]string
	now   func() time.Time

	mu      sync.Mutex
	buckets map[bucketKey]*bucket
}

type bucketKey struct{ account, service string }

// bucket is a token bucket as of its last update.
type bucket struct {
	tokens float64
	at     time.Time
}

// pruneAbove is the number of buckets beyond which full ones are
// dropped: a full bucket is the same as none, and dropping them bounds
// memory when many accounts (or made-up access keys) call.
const pruneAbove = 10_000

// New returns a Limiter; every service needs an error code its model
// declares.
func New(opts Options) (*Limiter, error) {
	if !opts.Limit.Enabled() || opts.Limit.Burst < 1 {
		return nil, errors.New("throttle: the limit needs a positive rate and a burst of at least 1")
	}
	for _, svc := range opts.Services {
		code := opts.ErrorCodes[svc.Name]
		if svc.NewError(code, "") == nil {
			return nil, fmt.Errorf("throttle: %s declares no exception %q", svc.Name, code)
		}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Limiter{limit: opts.Limit, codes: opts.ErrorCodes, now: opts.Now, buckets: map[bucketKey]*bucket{}}, nil
}

// Inject takes a token from the bucket of the account and service, or
// answers the service's throttling error when there is none.
func (l *Limiter) Inject(_ context.Context, svc *protocol.Service, _ *protocol.Operation, account string) (protocol.APIError, error) {
	if l.allow(account, svc.Name) {
		return nil, nil
	}
	return svc.NewError(l.codes[svc.Name], "Rate exceeded"), nil
}

func (l *Limiter) allow(account, service string) bool {
	now := l.now()
	k := bucketKey{account, service}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[k]
	if b == nil {
		if len(l.buckets) >= pruneAbove {
			l.pruneLocked(now)
		}
		b = &bucket{tokens: float64(l.limit.Burst), at: now}
		l.buckets[k] = b
	}
	b.refill(now, l.limit)
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

func (b *bucket) refill(now time.Time, l Limit) {
	if elapsed := now.Sub(b.at); elapsed > 0 {
		b.tokens = min(float64(l.Burst), b.tokens+elapsed.Seconds()*l.Rate)
		b.at = now
	}
}

func (l *Limiter) pruneLocked(now time.Time) {
	for k, b := range l.buckets {
		b.refill(now, l.limit)
		if b.tokens >= float64(l.limit.Burst) {
			delete(l.buckets, k)
		}
	}
}
