package sqlite

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/orgstack/orgstack/internal/store"
)

// fill stores n keys "acct/%08d" in bucket, 10,000 per transaction.
func fill(b *testing.B, s store.Store, bucket string, n int) {
	b.Helper()
	value := make([]byte, 200) // about the size of a JSON account record
	for start := 0; start < n; start += 10000 {
		err := s.Write(context.Background(), func(tx store.Tx) error {
			for i := start; i < min(start+10000, n); i++ {
				if err := tx.Put(bucket, fmt.Sprintf("acct/%08d", i), value); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

var benchEngines = []struct {
	name string
	opts func(b *testing.B) Options
}{
	{"file", func(b *testing.B) Options { return Options{Path: tempDB(b)} }},
	{"memory", func(*testing.B) Options { return Options{Path: Memory} }},
}

func BenchmarkGet(b *testing.B) {
	for _, e := range benchEngines {
		b.Run(e.name, func(b *testing.B) {
			s := openT(b, e.opts(b))
			fill(b, s, "b", 1000)
			ctx := context.Background()
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				key := fmt.Sprintf("acct/%08d", i%1000)
				i++
				err := s.Read(ctx, func(tx store.Tx) error { _, err := tx.Get("b", key); return err })
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkGetRequestContext is BenchmarkGet/file with a context that can
// be canceled, as an HTTP request's is: the driver then watches it during
// every statement, which costs a goroutine per statement.
func BenchmarkGetRequestContext(b *testing.B) {
	s := openT(b, Options{Path: tempDB(b)})
	fill(b, s, "b", 1000)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		key := fmt.Sprintf("acct/%08d", i%1000)
		i++
		err := s.Read(ctx, func(tx store.Tx) error { _, err := tx.Get("b", key); return err })
		if err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGetParallel(b *testing.B) {
	s := openT(b, Options{Path: tempDB(b)})
	fill(b, s, "b", 1000)
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			key := fmt.Sprintf("acct/%08d", i%1000)
			i++
			err := s.Read(ctx, func(tx store.Tx) error { _, err := tx.Get("b", key); return err })
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkPut is one Write transaction with one Put: with Sync "full" its
// cost is dominated by the fsync of the WAL at each commit.
func BenchmarkPut(b *testing.B) {
	engines := []struct {
		name string
		opts func(b *testing.B) Options
	}{
		{"sync=full", func(b *testing.B) Options { return Options{Path: tempDB(b), Sync: SyncFull} }},
		{"sync=normal", func(b *testing.B) Options { return Options{Path: tempDB(b), Sync: SyncNormal} }},
		{"memory", func(*testing.B) Options { return Options{Path: Memory} }},
	}
	for _, e := range engines {
		b.Run(e.name, func(b *testing.B) {
			s := openT(b, e.opts(b))
			ctx := context.Background()
			value := make([]byte, 200)
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				key := fmt.Sprintf("acct/%08d", i)
				i++
				if err := s.Write(ctx, func(tx store.Tx) error { return tx.Put("b", key, value) }); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkScanPage reads a page of 20 from the middle of buckets of very
// different sizes: the cost must not depend on the size.
func BenchmarkScanPage(b *testing.B) {
	for _, n := range []int{1000, 100000} {
		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
			s := openT(b, Options{Path: tempDB(b), Sync: SyncNormal})
			fill(b, s, "b", n)
			fill(b, s, "a", n/10) // neighbours on both sides
			fill(b, s, "c", n/10)
			ctx := context.Background()
			after := fmt.Sprintf("acct/%08d", n/2)
			b.ReportAllocs()
			for b.Loop() {
				got := 0
				err := s.Read(ctx, func(tx store.Tx) error {
					return tx.Scan("b", "acct/", after, 20, func(string, []byte) error { got++; return nil })
				})
				if err != nil || got != 20 {
					b.Fatalf("Scan: %d keys, %v", got, err)
				}
			}
		})
	}
}

// BenchmarkPutParallel is BenchmarkPut/sync=full from many goroutines at
// once, as concurrent API calls write: group commit lets the Writes that
// queue during one commit share the next one's fsync.
func BenchmarkPutParallel(b *testing.B) {
	s := openT(b, Options{Path: tempDB(b), Sync: SyncFull})
	ctx := context.Background()
	value := make([]byte, 200)
	var next atomic.Int64
	b.SetParallelism(4) // 4 × GOMAXPROCS writers
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			key := fmt.Sprintf("acct/%08d", next.Add(1))
			if err := s.Write(ctx, func(tx store.Tx) error { return tx.Put("b", key, value) }); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
