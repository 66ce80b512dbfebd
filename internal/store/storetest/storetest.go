// Package storetest is the conformance suite every store engine must pass,
// so that the domains can rely on exactly the semantics store.Store
// documents whatever database is underneath.
//
// An engine's tests call Run with a function that opens a new, empty store:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store {
//			s, err := myengine.Open(…)
//			if err != nil {
//				t.Fatal(err)
//			}
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/orgstack/orgstack/internal/store"
)

// Run runs the suite. open must return a new, empty store each time it is
// called and arrange for it to be closed when t ends; the subtests run in
// parallel, each on its own store.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"GetPut", testGetPut},
		{"ValuesAreCopies", testValuesAreCopies},
		{"Create", testCreate},
		{"Delete", testDelete},
		{"Scan", testScan},
		{"ScanCallback", testScanCallback},
		{"ScanManyKeys", testScanManyKeys},
		{"ByteOrder", testByteOrder},
		{"CountAndDeletePrefix", testCountAndDeletePrefix},
		{"RollbackOnError", testRollbackOnError},
		{"RollbackOnPanic", testRollbackOnPanic},
		{"ReadOnly", testReadOnly},
		{"TxAfterReturn", testTxAfterReturn},
		{"CanceledContext", testCanceledContext},
		{"Isolation", testIsolation},
		{"SerializableCounter", testSerializableCounter},
		{"Reset", testReset},
		{"LargeValues", testLargeValues},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, open(t))
		})
	}
}

var errSentinel = errors.New("storetest: sentinel")

func write(t *testing.T, s store.Store, fn func(store.Tx) error) {
	t.Helper()
	if err := s.Write(t.Context(), fn); err != nil {
		t.Fatalf("Write: %v", err)
	}
}

func read(t *testing.T, s store.Store, fn func(store.Tx) error) {
	t.Helper()
	if err := s.Read(t.Context(), fn); err != nil {
		t.Fatalf("Read: %v", err)
	}
}

// putAll stores each key with its own name as value, in one transaction.
func putAll(t *testing.T, s store.Store, bucket string, keys ...string) {
	t.Helper()
	write(t, s, func(tx store.Tx) error {
		for _, k := range keys {
			if err := tx.Put(bucket, k, []byte(k)); err != nil {
				return err
			}
		}
		return nil
	})
}

// get reads one key in its own Read; ok is false when it is absent.
func get(t *testing.T, s store.Store, bucket, key string) (value []byte, ok bool) {
	t.Helper()
	read(t, s, func(tx store.Tx) error {
		v, err := tx.Get(bucket, key)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		value, ok = v, err == nil
		return err
	})
	return value, ok
}

// scanKeys returns the keys a Scan visits, checking that each value is the
// key's own name as putAll stores it.
func scanKeys(t *testing.T, tx store.Tx, bucket, prefix, after string, limit int) []string {
	t.Helper()
	keys := []string{}
	err := tx.Scan(bucket, prefix, after, limit, func(k string, v []byte) error {
		if string(v) != k {
			t.Errorf("Scan: key %q has value %q", k, v)
		}
		keys = append(keys, k)
		return nil
	})
	if err != nil {
		t.Fatalf("Scan(%q, %q, %q, %d): %v", bucket, prefix, after, limit, err)
	}
	return keys
}

func testGetPut(t *testing.T, s store.Store) {
	if _, ok := get(t, s, "b", "k"); ok {
		t.Fatal("Get on an empty store found a value")
	}
	read(t, s, func(tx store.Tx) error {
		if _, err := tx.Get("b", "k"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Get absent: err = %v, want ErrNotFound", err)
		}
		return nil
	})

	write(t, s, func(tx store.Tx) error {
		if err := tx.Put("b", "k", []byte("v1")); err != nil {
			return err
		}
		// A transaction reads its own writes.
		v, err := tx.Get("b", "k")
		if err != nil || string(v) != "v1" {
			t.Errorf("Get in the writing tx = %q, %v; want v1", v, err)
		}
		return nil
	})
	// A Read after Write returned sees the commit.
	if v, ok := get(t, s, "b", "k"); !ok || string(v) != "v1" {
		t.Errorf("Get = %q, %v; want v1", v, ok)
	}

	putAll(t, s, "other", "k")
	write(t, s, func(tx store.Tx) error { return tx.Put("b", "k", []byte("v2")) })
	for _, c := range []struct{ bucket, key, want string }{
		{"b", "k", "v2"},    // replaced
		{"other", "k", "k"}, // same key, other bucket: untouched
		{"b", "absent", ""},
		{"bk", "", ""},     // bucket and key do not run together
		{"b", "k\x00", ""}, // no prefix matching
		{"B", "k", ""},     // buckets are case-sensitive
		{"b", "K", ""},     // so are keys
		{"", "k", ""},      // the empty bucket is just another bucket
	} {
		v, ok := get(t, s, c.bucket, c.key)
		if got := string(v); ok != (c.want != "") || got != c.want {
			t.Errorf("Get(%q, %q) = %q, %v; want %q", c.bucket, c.key, got, ok, c.want)
		}
	}

	// Empty and nil values are stored and read back as empty, not absent.
	write(t, s, func(tx store.Tx) error {
		if err := tx.Put("b", "empty", []byte{}); err != nil {
			return err
		}
		return tx.Put("b", "nil", nil)
	})
	for _, k := range []string{"empty", "nil"} {
		if v, ok := get(t, s, "b", k); !ok || len(v) != 0 {
			t.Errorf("Get(%q) = %q, %v; want empty, true", k, v, ok)
		}
	}
}

func testValuesAreCopies(t *testing.T, s store.Store) {
	in := []byte("original")
	write(t, s, func(tx store.Tx) error { return tx.Put("b", "k", in) })
	copy(in, "CHANGED!") // the caller may reuse its buffer after Put

	var got, scanned []byte
	read(t, s, func(tx store.Tx) error {
		var err error
		if got, err = tx.Get("b", "k"); err != nil {
			return err
		}
		return tx.Scan("b", "", "", 0, func(_ string, v []byte) error {
			scanned = v
			return nil
		})
	})
	// The values outlive their transaction and belong to the caller.
	if string(got) != "original" || string(scanned) != "original" {
		t.Fatalf("Get = %q, Scan = %q; want original", got, scanned)
	}
	copy(got, "XXXXXXXX")
	copy(scanned, "YYYYYYYY")
	if v, _ := get(t, s, "b", "k"); string(v) != "original" {
		t.Fatalf("after changing returned slices, Get = %q; want original", v)
	}
}

func testCreate(t *testing.T, s store.Store) {
	write(t, s, func(tx store.Tx) error { return tx.Create("b", "k", []byte("first")) })

	err := s.Write(t.Context(), func(tx store.Tx) error { return tx.Create("b", "k", []byte("second")) })
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("Create existing: err = %v, want ErrConflict", err)
	}
	// A transaction may handle the conflict and carry on.
	write(t, s, func(tx store.Tx) error {
		if err := tx.Create("b", "k", []byte("third")); !errors.Is(err, store.ErrConflict) {
			t.Errorf("Create existing in tx: err = %v, want ErrConflict", err)
		}
		if err := tx.Create("other", "k", []byte("other")); err != nil {
			t.Errorf("Create in another bucket: %v", err)
		}
		return tx.Put("b", "after-conflict", []byte("yes"))
	})
	for _, c := range []struct{ bucket, key, want string }{
		{"b", "k", "first"},
		{"other", "k", "other"},
		{"b", "after-conflict", "yes"},
	} {
		if v, _ := get(t, s, c.bucket, c.key); string(v) != c.want {
			t.Errorf("Get(%q, %q) = %q; want %q", c.bucket, c.key, v, c.want)
		}
	}

	// A deleted key can be created again, in the same transaction too.
	write(t, s, func(tx store.Tx) error {
		if err := tx.Delete("b", "k"); err != nil {
			return err
		}
		return tx.Create("b", "k", []byte("again"))
	})
	if v, _ := get(t, s, "b", "k"); string(v) != "again" {
		t.Errorf("Get after delete and create = %q; want again", v)
	}
}

func testDelete(t *testing.T, s store.Store) {
	putAll(t, s, "b", "k1", "k2")
	putAll(t, s, "other", "k1")
	write(t, s, func(tx store.Tx) error {
		if err := tx.Delete("b", "k1"); err != nil {
			return err
		}
		if _, err := tx.Get("b", "k1"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Get deleted key in tx: err = %v, want ErrNotFound", err)
		}
		if err := tx.Delete("b", "k1"); err != nil {
			t.Errorf("Delete twice: %v", err)
		}
		return tx.Delete("b", "absent")
	})
	for _, c := range []struct {
		bucket, key string
		want        bool
	}{{"b", "k1", false}, {"b", "k2", true}, {"other", "k1", true}} {
		if _, ok := get(t, s, c.bucket, c.key); ok != c.want {
			t.Errorf("Get(%q, %q) found = %v; want %v", c.bucket, c.key, ok, c.want)
		}
	}
}

func testScan(t *testing.T, s store.Store) {
	putAll(t, s, "b", "b/1", "a/3", "a", "a/1", "ab", "b", "a/2") // out of order on purpose
	putAll(t, s, "other", "a/0", "a/9", "c")
	putAll(t, s, "bb", "a/5")

	all := []string{"a", "a/1", "a/2", "a/3", "ab", "b", "b/1"}
	tests := []struct {
		name          string
		prefix, after string
		limit         int
		want          []string
	}{
		{"all", "", "", 0, all},
		{"negative limit means none", "", "", -1, all},
		{"limit larger than bucket", "", "", 100, all},
		{"prefix", "a/", "", 0, []string{"a/1", "a/2", "a/3"}},
		{"prefix includes the key equal to it", "a", "", 0, []string{"a", "a/1", "a/2", "a/3", "ab"}},
		{"prefix is a whole key", "b/1", "", 0, []string{"b/1"}},
		{"prefix matches nothing", "zz", "", 0, []string{}},
		{"prefix between keys", "a/2x", "", 0, []string{}},
		{"after", "", "a/2", 0, []string{"a/3", "ab", "b", "b/1"}},
		{"after is exclusive", "a/", "a/1", 0, []string{"a/2", "a/3"}},
		{"after an absent key", "a/", "a/15", 0, []string{"a/2", "a/3"}},
		{"after before the prefix", "a/", "a", 0, []string{"a/1", "a/2", "a/3"}},
		{"after equal to the prefix", "a/", "a/", 0, []string{"a/1", "a/2", "a/3"}},
		{"after the last key of the prefix", "a/", "a/3", 0, []string{}},
		{"after beyond the prefix", "a/", "b", 0, []string{}},
		{"after beyond everything", "", "z", 0, []string{}},
		{"limit", "a/", "", 2, []string{"a/1", "a/2"}},
		{"limit and after", "a/", "a/1", 1, []string{"a/2"}},
		{"limit one", "", "", 1, []string{"a"}},
		{"page 1", "", "", 3, []string{"a", "a/1", "a/2"}},
		{"page 2", "", "a/2", 3, []string{"a/3", "ab", "b"}},
		{"page 3", "", "b", 3, []string{"b/1"}},
	}
	read(t, s, func(tx store.Tx) error {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got := scanKeys(t, tx, "b", tt.prefix, tt.after, tt.limit)
				if !slices.Equal(got, tt.want) {
					t.Errorf("Scan(prefix %q, after %q, limit %d) = %q; want %q", tt.prefix, tt.after, tt.limit, got, tt.want)
				}
			})
		}
		if got := scanKeys(t, tx, "absent", "", "", 0); len(got) != 0 {
			t.Errorf("Scan of an empty bucket = %q", got)
		}
		return nil
	})
}

func testScanCallback(t *testing.T, s store.Store) {
	keys := []string{"k1", "k2", "k3", "k4"}
	putAll(t, s, "b", keys...)

	t.Run("ErrStop ends the scan without error", func(t *testing.T) {
		var seen []string
		read(t, s, func(tx store.Tx) error {
			err := tx.Scan("b", "", "", 0, func(k string, _ []byte) error {
				seen = append(seen, k)
				if k == "k2" {
					return store.ErrStop
				}
				return nil
			})
			if err != nil {
				t.Errorf("Scan stopped with ErrStop: err = %v, want nil", err)
			}
			return nil
		})
		if !slices.Equal(seen, []string{"k1", "k2"}) {
			t.Errorf("visited %q; want k1 k2", seen)
		}
	})

	t.Run("other errors end the scan and propagate", func(t *testing.T) {
		var seen []string
		err := s.Read(t.Context(), func(tx store.Tx) error {
			return tx.Scan("b", "", "", 0, func(k string, _ []byte) error {
				seen = append(seen, k)
				return fmt.Errorf("wrapped: %w", errSentinel)
			})
		})
		if !errors.Is(err, errSentinel) {
			t.Errorf("err = %v, want the callback's error", err)
		}
		if len(seen) != 1 {
			t.Errorf("visited %q after the error; want one key", seen)
		}
	})

	t.Run("the transaction is usable inside the callback", func(t *testing.T) {
		write(t, s, func(tx store.Tx) error {
			return tx.Scan("b", "", "", 0, func(k string, v []byte) error {
				if got, err := tx.Get("b", k); err != nil || !bytes.Equal(got, v) {
					t.Errorf("Get(%q) inside Scan = %q, %v; want %q", k, got, err, v)
				}
				// A nested scan of the same shape.
				n := 0
				if err := tx.Scan("b", "", "", 0, func(string, []byte) error { n++; return nil }); err != nil || n != len(keys) {
					t.Errorf("nested Scan saw %d keys, %v; want %d", n, err, len(keys))
				}
				// Rewriting the key being visited.
				return tx.Put("b", k, []byte(strings.ToUpper(k)))
			})
		})
		read(t, s, func(tx store.Tx) error {
			for _, k := range keys {
				if v, err := tx.Get("b", k); err != nil || string(v) != strings.ToUpper(k) {
					t.Errorf("Get(%q) = %q, %v; want %q", k, v, err, strings.ToUpper(k))
				}
			}
			return nil
		})
	})
}

// testScanManyKeys checks paging over more keys than an engine is likely to
// fetch at once.
func testScanManyKeys(t *testing.T, s store.Store) {
	const n = 1500
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("key/%05d", i)
	}
	putAll(t, s, "b", keys...)

	read(t, s, func(tx store.Tx) error {
		if got := scanKeys(t, tx, "b", "", "", 0); !slices.Equal(got, keys) {
			t.Errorf("full Scan returned %d keys; want %d in order", len(got), n)
		}
		if got := scanKeys(t, tx, "b", "key/", keys[99], 700); !slices.Equal(got, keys[100:800]) {
			t.Errorf("Scan(after %s, limit 700) returned %d keys, want keys 100…799", keys[99], len(got))
		}
		// Page through with a small limit, as a paginated API does.
		var paged []string
		after := ""
		for {
			page := scanKeys(t, tx, "b", "key/0", after, 97)
			paged = append(paged, page...)
			if len(page) < 97 {
				break
			}
			after = page[len(page)-1]
		}
		if !slices.Equal(paged, keys) {
			t.Errorf("paging returned %d keys; want %d in order", len(paged), n)
		}
		if c, err := tx.Count("b", "key/00"); err != nil || c != 1000 {
			t.Errorf("Count(key/00) = %d, %v; want 1000", c, err)
		}
		return nil
	})
}

// byteOrderKeys exercise bytewise order where it differs from naive
// expectations: multi-byte UTF-8 sorts by its bytes, and 0x00 and 0xff bytes
// (keys are arbitrary strings, not only valid UTF-8) sit at the ends of the
// byte range, where computing a prefix's upper bound goes wrong easily.
var byteOrderKeys = []string{
	"a", "a\x00", "a\x01", "a/", "a\x7f", "a\u00e9", "a\u00ff", "a\u4e16", "a\U0001F600",
	"a\xfe", "a\xfe\xff", "a\xff", "a\xff\x00", "a\xffb", "a\xff\xff", "a\xff\xff\xff", "a\xff\xffz",
	"b", "\u00e9", "\u00ff", "\uffff", "\U0010FFFF", "\xfe", "\xff", "\xff\x00", "\xff\xff", "\xff\xff\xff",
}

var byteOrderPrefixes = []string{
	"", "a", "a\x00", "a\xc3", "a\u00e9", "a\xe4", "a\xf0\x9f", "a\xfe", "a\xff", "a\xff\xff", "a\xff\xff\xff",
	"\xc3", "\xef\xbf", "\xf4", "\xfe", "\xff", "\xff\xff", "\xff\xff\xff\xff", "c",
}

func withPrefix(keys []string, prefix string) []string {
	out := []string{}
	for _, k := range keys {
		if strings.HasPrefix(k, prefix) {
			out = append(out, k)
		}
	}
	return out
}

func testByteOrder(t *testing.T, s store.Store) {
	putAll(t, s, "b", byteOrderKeys...)
	// Neighbouring buckets whose keys must never leak into "b".
	putAll(t, s, "a", "\xff\xff")
	putAll(t, s, "c", "")
	putAll(t, s, "b\x01", "a")

	sorted := slices.Clone(byteOrderKeys)
	slices.Sort(sorted) // Go compares strings bytewise

	read(t, s, func(tx store.Tx) error {
		if got := scanKeys(t, tx, "b", "", "", 0); !slices.Equal(got, sorted) {
			t.Errorf("Scan order:\n got %q\nwant %q", got, sorted)
		}
		for _, p := range byteOrderPrefixes {
			want := withPrefix(sorted, p)
			if got := scanKeys(t, tx, "b", p, "", 0); !slices.Equal(got, want) {
				t.Errorf("Scan(prefix %q):\n got %q\nwant %q", p, got, want)
			}
			if n, err := tx.Count("b", p); err != nil || n != len(want) {
				t.Errorf("Count(%q) = %d, %v; want %d", p, n, err, len(want))
			}
			// Every key as `after`, within this prefix.
			for i, after := range sorted {
				want := withPrefix(sorted[i+1:], p)
				if got := scanKeys(t, tx, "b", p, after, 0); !slices.Equal(got, want) {
					t.Errorf("Scan(prefix %q, after %q):\n got %q\nwant %q", p, after, got, want)
				}
			}
		}
		return nil
	})

	// DeletePrefix, each in a transaction rolled back afterwards so the
	// fixture survives for the next prefix.
	for _, p := range byteOrderPrefixes {
		want := withPrefix(sorted, p)
		err := s.Write(t.Context(), func(tx store.Tx) error {
			n, err := tx.DeletePrefix("b", p)
			if err != nil {
				return err
			}
			if n != len(want) {
				t.Errorf("DeletePrefix(%q) = %d; want %d", p, n, len(want))
			}
			rest := scanKeys(t, tx, "b", "", "", 0)
			if wantRest := slices.DeleteFunc(slices.Clone(sorted), func(k string) bool {
				return strings.HasPrefix(k, p)
			}); !slices.Equal(rest, wantRest) {
				t.Errorf("after DeletePrefix(%q):\n got %q\nwant %q", p, rest, wantRest)
			}
			return errSentinel
		})
		if !errors.Is(err, errSentinel) {
			t.Fatalf("Write: %v", err)
		}
	}
	for _, c := range []struct{ bucket, key string }{{"a", "\xff\xff"}, {"c", ""}, {"b\x01", "a"}} {
		if _, ok := get(t, s, c.bucket, c.key); !ok {
			t.Errorf("bucket %q lost key %q", c.bucket, c.key)
		}
	}
}

func testCountAndDeletePrefix(t *testing.T, s store.Store) {
	putAll(t, s, "b", "x/1", "x/2", "x/3", "xy", "y/1")
	putAll(t, s, "other", "x/1", "x/9")

	read(t, s, func(tx store.Tx) error {
		for _, c := range []struct {
			bucket, prefix string
			want           int
		}{
			{"b", "", 5}, {"b", "x", 4}, {"b", "x/", 3}, {"b", "x/2", 1}, {"b", "z", 0},
			{"other", "", 2}, {"absent", "", 0},
		} {
			if n, err := tx.Count(c.bucket, c.prefix); err != nil || n != c.want {
				t.Errorf("Count(%q, %q) = %d, %v; want %d", c.bucket, c.prefix, n, err, c.want)
			}
		}
		return nil
	})

	write(t, s, func(tx store.Tx) error {
		for _, c := range []struct {
			prefix string
			want   int
		}{{"x/", 3}, {"x/", 0}, {"absent", 0}} {
			if n, err := tx.DeletePrefix("b", c.prefix); err != nil || n != c.want {
				t.Errorf("DeletePrefix(%q) = %d, %v; want %d", c.prefix, n, err, c.want)
			}
		}
		return nil
	})
	read(t, s, func(tx store.Tx) error {
		if got := scanKeys(t, tx, "b", "", "", 0); !slices.Equal(got, []string{"xy", "y/1"}) {
			t.Errorf("after DeletePrefix(x/), bucket b = %q", got)
		}
		if got := scanKeys(t, tx, "other", "", "", 0); !slices.Equal(got, []string{"x/1", "x/9"}) {
			t.Errorf("after DeletePrefix in b, bucket other = %q", got)
		}
		return nil
	})

	// The empty prefix empties one bucket, and only it.
	write(t, s, func(tx store.Tx) error {
		if n, err := tx.DeletePrefix("b", ""); err != nil || n != 2 {
			t.Errorf(`DeletePrefix("") = %d, %v; want 2`, n, err)
		}
		return nil
	})
	read(t, s, func(tx store.Tx) error {
		for _, c := range []struct {
			bucket string
			want   int
		}{{"b", 0}, {"other", 2}} {
			if n, err := tx.Count(c.bucket, ""); err != nil || n != c.want {
				t.Errorf("Count(%q) = %d, %v; want %d", c.bucket, n, err, c.want)
			}
		}
		return nil
	})
}

func testRollbackOnError(t *testing.T, s store.Store) {
	putAll(t, s, "b", "keep", "gone")
	err := s.Write(t.Context(), func(tx store.Tx) error {
		if err := tx.Put("b", "new", []byte("x")); err != nil {
			return err
		}
		if err := tx.Put("b", "keep", []byte("changed")); err != nil {
			return err
		}
		if err := tx.Delete("b", "gone"); err != nil {
			return err
		}
		return fmt.Errorf("wrapped: %w", errSentinel)
	})
	if !errors.Is(err, errSentinel) {
		t.Fatalf("Write returned %v; want fn's error", err)
	}
	read(t, s, func(tx store.Tx) error {
		if got := scanKeys(t, tx, "b", "", "", 0); !slices.Equal(got, []string{"gone", "keep"}) {
			t.Errorf("after rollback, bucket = %q; want gone keep, unchanged", got)
		}
		return nil
	})
}

func testRollbackOnPanic(t *testing.T, s store.Store) {
	putAll(t, s, "b", "keep")
	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Errorf("recovered %v; want the panic to reach the caller", r)
			}
		}()
		_ = s.Write(t.Context(), func(tx store.Tx) error {
			if err := tx.Put("b", "new", []byte("x")); err != nil {
				return err
			}
			if err := tx.Delete("b", "keep"); err != nil {
				return err
			}
			panic("boom")
		})
		t.Error("Write returned after fn panicked")
	}()
	// A panic in a Read must not leak its connection either.
	func() {
		defer func() { _ = recover() }()
		_ = s.Read(t.Context(), func(store.Tx) error { panic("boom") })
	}()

	read(t, s, func(tx store.Tx) error {
		if got := scanKeys(t, tx, "b", "", "", 0); !slices.Equal(got, []string{"keep"}) {
			t.Errorf("after panic, bucket = %q; want keep, unchanged", got)
		}
		return nil
	})
	// The store remains usable.
	putAll(t, s, "b", "after")
	if _, ok := get(t, s, "b", "after"); !ok {
		t.Error("Write after a panic did not commit")
	}
}

func testReadOnly(t *testing.T, s store.Store) {
	putAll(t, s, "b", "k")
	writes := []struct {
		name string
		fn   func(store.Tx) error
	}{
		{"Put", func(tx store.Tx) error { return tx.Put("b", "new", []byte("x")) }},
		{"Create", func(tx store.Tx) error { return tx.Create("b", "new", []byte("x")) }},
		{"Delete", func(tx store.Tx) error { return tx.Delete("b", "k") }},
		{"DeletePrefix", func(tx store.Tx) error { _, err := tx.DeletePrefix("b", ""); return err }},
	}
	for _, w := range writes {
		t.Run(w.name, func(t *testing.T) {
			err := s.Read(t.Context(), w.fn)
			if err == nil {
				t.Errorf("%s in a Read succeeded; want an error", w.name)
			}
		})
	}
	read(t, s, func(tx store.Tx) error {
		if got := scanKeys(t, tx, "b", "", "", 0); !slices.Equal(got, []string{"k"}) {
			t.Errorf("after writes in Reads, bucket = %q; want k", got)
		}
		return nil
	})
	if err := s.Read(t.Context(), func(store.Tx) error { return errSentinel }); !errors.Is(err, errSentinel) {
		t.Errorf("Read returned %v; want fn's error", err)
	}
}

func testTxAfterReturn(t *testing.T, s store.Store) {
	var stale store.Tx
	write(t, s, func(tx store.Tx) error {
		stale = tx
		return tx.Put("b", "k", []byte("v"))
	})
	if _, err := stale.Get("b", "k"); err == nil {
		t.Error("Get on a finished transaction succeeded; want an error")
	}
	if err := stale.Put("b", "k2", []byte("v")); err == nil {
		t.Error("Put on a finished transaction succeeded; want an error")
	}
	if _, ok := get(t, s, "b", "k2"); ok {
		t.Error("Put on a finished transaction was stored")
	}
}

func testCanceledContext(t *testing.T, s store.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.Write(ctx, func(tx store.Tx) error { return tx.Put("b", "k", []byte("v")) }); !errors.Is(err, context.Canceled) {
		t.Errorf("Write with a canceled context: err = %v; want context.Canceled", err)
	}
	if err := s.Read(ctx, func(tx store.Tx) error { _, err := tx.Get("b", "k"); return err }); !errors.Is(err, context.Canceled) {
		t.Errorf("Read with a canceled context: err = %v; want context.Canceled", err)
	}

	// Canceled while fn runs: nothing is committed.
	ctx, cancel = context.WithCancel(t.Context())
	err := s.Write(ctx, func(tx store.Tx) error {
		if err := tx.Put("b", "k", []byte("v")); err != nil {
			return err
		}
		cancel()
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Write canceled during fn: err = %v; want context.Canceled", err)
	}
	if _, ok := get(t, s, "b", "k"); ok {
		t.Error("Write canceled during fn committed")
	}
}

// testIsolation runs Reads while a Write rewrites a group of keys, and checks
// that every Read sees the group as one version: all before or all after.
func testIsolation(t *testing.T, s store.Store) {
	const keys, rounds, readers = 10, 100, 4
	set := func(tx store.Tx, round int) error {
		v := fmt.Appendf(nil, "%d", round)
		for k := range keys {
			if err := tx.Put("iso", fmt.Sprintf("k%02d", k), v); err != nil {
				return err
			}
		}
		// The round number in another bucket, in the same transaction.
		return tx.Put("meta", "round", v)
	}
	write(t, s, func(tx store.Tx) error { return set(tx, 0) })

	ctx := t.Context()
	done := make(chan struct{})
	var wg sync.WaitGroup
	for range readers {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-done:
					if i > 0 {
						return
					}
				default:
				}
				err := s.Read(ctx, func(tx store.Tx) error {
					round, err := tx.Get("meta", "round")
					if err != nil {
						return err
					}
					n := 0
					err = tx.Scan("iso", "", "", 0, func(k string, v []byte) error {
						n++
						if !bytes.Equal(v, round) {
							return fmt.Errorf("key %s = %s while round = %s: a half-applied write", k, v, round)
						}
						return nil
					})
					if err == nil && n != keys {
						err = fmt.Errorf("scan saw %d keys; want %d", n, keys)
					}
					return err
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	for r := 1; r <= rounds; r++ {
		if err := s.Write(ctx, func(tx store.Tx) error { return set(tx, r) }); err != nil {
			t.Errorf("Write: %v", err)
			break
		}
	}
	close(done)
	wg.Wait()
}

// testSerializableCounter increments one key from many goroutines: with
// serializable transactions no increment is lost.
func testSerializableCounter(t *testing.T, s store.Store) {
	const workers, each = 8, 25
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				err := s.Write(t.Context(), func(tx store.Tx) error {
					n := 0
					v, err := tx.Get("b", "counter")
					switch {
					case errors.Is(err, store.ErrNotFound):
					case err != nil:
						return err
					default:
						if _, err := fmt.Sscan(string(v), &n); err != nil {
							return err
						}
					}
					if err := tx.Put("b", "counter", fmt.Appendf(nil, "%d", n+1)); err != nil {
						return err
					}
					// Create of a unique key succeeds exactly once per increment.
					return tx.Create("log", fmt.Sprintf("%d/%d", w, i), fmt.Appendf(nil, "%d", n))
				})
				if err != nil {
					t.Errorf("Write: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()

	read(t, s, func(tx store.Tx) error {
		v, err := tx.Get("b", "counter")
		if err != nil {
			return err
		}
		if want := fmt.Sprint(workers * each); string(v) != want {
			t.Errorf("counter = %s; want %s", v, want)
		}
		// Every increment saw a distinct previous value.
		seen := map[string]bool{}
		err = tx.Scan("log", "", "", 0, func(k string, v []byte) error {
			if seen[string(v)] {
				t.Errorf("two increments both read %s", v)
			}
			seen[string(v)] = true
			return nil
		})
		if len(seen) != workers*each {
			t.Errorf("log has %d distinct entries; want %d", len(seen), workers*each)
		}
		return err
	})
}

func testReset(t *testing.T, s store.Store) {
	putAll(t, s, "a", "1", "2")
	putAll(t, s, "b", "1")
	putAll(t, s, "", "")
	if err := s.Reset(t.Context(), nil); err != nil {
		t.Fatalf("Reset: %v", err)
	}
	read(t, s, func(tx store.Tx) error {
		for _, b := range []string{"a", "b", ""} {
			if n, err := tx.Count(b, ""); err != nil || n != 0 {
				t.Errorf("after Reset, Count(%q) = %d, %v; want 0", b, n, err)
			}
		}
		return nil
	})
	putAll(t, s, "a", "1")
	if _, ok := get(t, s, "a", "1"); !ok {
		t.Error("Write after Reset did not commit")
	}
	if err := s.Reset(t.Context(), nil); err != nil {
		t.Fatalf("Reset twice: %v", err)
	}

	// The seed runs in the reset's transaction: it sees the store empty,
	// and what it writes is all that is left.
	putAll(t, s, "a", "1", "2")
	err := s.Reset(t.Context(), func(tx store.Tx) error {
		if n, err := tx.Count("a", ""); err != nil || n != 0 {
			t.Errorf("seed sees Count = %d, %v; want an empty store", n, err)
		}
		return tx.Put("meta", "seed", []byte("s"))
	})
	if err != nil {
		t.Fatalf("Reset with a seed: %v", err)
	}
	read(t, s, func(tx store.Tx) error {
		if v, err := tx.Get("meta", "seed"); err != nil || string(v) != "s" {
			t.Errorf("seeded key = %q, %v", v, err)
		}
		if n, _ := tx.Count("a", ""); n != 0 {
			t.Errorf("after a seeded Reset, Count(a) = %d", n)
		}
		return nil
	})

	// A seed that fails undoes the whole reset.
	boom := errors.New("seed failed")
	if err := s.Reset(t.Context(), func(store.Tx) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("Reset with a failing seed = %v, want %v", err, boom)
	}
	if _, ok := get(t, s, "meta", "seed"); !ok {
		t.Error("a Reset whose seed failed deleted keys")
	}
}

func testLargeValues(t *testing.T, s store.Store) {
	rng := rand.New(rand.NewPCG(1, 2))
	values := map[string][]byte{}
	for _, size := range []int{0, 1, 4 << 10, 1 << 20, 8 << 20} {
		v := make([]byte, size)
		for i := range v {
			v[i] = byte(rng.Uint32())
		}
		values[fmt.Sprintf("size/%09d", size)] = v
	}
	write(t, s, func(tx store.Tx) error {
		for k, v := range values {
			if err := tx.Put("b", k, v); err != nil {
				return err
			}
		}
		return nil
	})
	read(t, s, func(tx store.Tx) error {
		for k, want := range values {
			if got, err := tx.Get("b", k); err != nil || !bytes.Equal(got, want) {
				t.Errorf("Get(%q) = %d bytes, %v; want %d bytes back unchanged", k, len(got), err, len(want))
			}
		}
		n := 0
		err := tx.Scan("b", "size/", "", 0, func(k string, got []byte) error {
			n++
			if !bytes.Equal(got, values[k]) {
				t.Errorf("Scan: %q has %d bytes, want %d unchanged", k, len(got), len(values[k]))
			}
			return nil
		})
		if n != len(values) {
			t.Errorf("Scan visited %d keys; want %d", n, len(values))
		}
		return err
	})
}
