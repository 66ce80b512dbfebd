package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/orgstack/orgstack/internal/store"
)

// queued waits until n Writes wait for the turn.
func queued(t *testing.T, s *Store, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.turns.mu.Lock()
		got := len(s.turns.queue)
		s.turns.mu.Unlock()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d Writes queued; want %d", got, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// member is one Write of a batch built by inOneBatch; a nil ctx is the
// test's.
type member struct {
	ctx context.Context
	fn  func(store.Tx) error
}

// inOneBatch runs the first member's Write, and while its fn holds the turn
// queues the others (in order) so that all of them share one batch. It
// returns each Write's error and what a panic in its fn carried (nil for
// none).
func inOneBatch(t *testing.T, s *Store, members ...member) (errs []error, panics []any) {
	t.Helper()
	errs, panics = make([]error, len(members)), make([]any, len(members))
	for i := range members {
		if members[i].ctx == nil {
			members[i].ctx = t.Context()
		}
	}
	release, holding := make(chan struct{}), make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	wg.Go(func() {
		errs[0] = s.Write(members[0].ctx, func(tx store.Tx) error {
			once.Do(func() { close(holding); <-release }) // the first run only
			return members[0].fn(tx)
		})
	})
	<-holding
	for i := 1; i < len(members); i++ {
		wg.Go(func() {
			defer func() { panics[i] = recover() }()
			errs[i] = s.Write(members[i].ctx, members[i].fn)
		})
		queued(t, s, i) // arrival order is turn order
	}
	close(release)
	wg.Wait()
	return errs, panics
}

func put(key, value string) func(store.Tx) error {
	return func(tx store.Tx) error { return tx.Put("b", key, []byte(value)) }
}

func m(fn func(store.Tx) error) member { return member{fn: fn} }

func getString(t *testing.T, s *Store, key string) string {
	t.Helper()
	var v []byte
	err := s.Read(t.Context(), func(tx store.Tx) error {
		var err error
		v, err = tx.Get("b", key)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return "<none>"
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(v)
}

// TestGroupCommitMembers checks the members of one batch: they share one
// commit, each sees what the earlier ones wrote, and a member that fails,
// panics or whose context ends loses its own changes and nothing else.
func TestGroupCommitMembers(t *testing.T) {
	s := openT(t, Options{Path: tempDB(t)})
	if err := s.Write(t.Context(), put("k0", "committed")); err != nil {
		t.Fatal(err)
	}
	commits := s.commits
	errFailed := errors.New("this member fails")
	canceled, cancel := context.WithCancel(t.Context())
	errs, panics := inOneBatch(t, s,
		m(func(tx store.Tx) error {
			if err := tx.Put("b", "k0", []byte("first")); err != nil {
				return err
			}
			return tx.Put("b", "k1", []byte("first"))
		}),
		// Fails after writing: its change must not be seen nor kept.
		m(func(tx store.Tx) error {
			if err := tx.Put("b", "k2", []byte("failed")); err != nil {
				return err
			}
			if err := tx.Put("b", "k0", []byte("failed")); err != nil {
				return err
			}
			return errFailed
		}),
		// Sees the first member's work, not the failed member's.
		m(func(tx store.Tx) error {
			for key, want := range map[string]string{"k0": "first", "k1": "first"} {
				v, err := tx.Get("b", key)
				if err != nil || string(v) != want {
					return fmt.Errorf("member 3 reads %s = %q, %v; want %q", key, v, err, want)
				}
			}
			if _, err := tx.Get("b", "k2"); !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("member 3 sees the failed member's k2: %v", err)
			}
			n, err := tx.Count("b", "")
			if err == nil && n != 2 {
				err = fmt.Errorf("member 3 counts %d keys; want k0 and k1", n)
			}
			if err != nil {
				return err
			}
			return tx.Put("b", "k3", []byte("third"))
		}),
		m(func(tx store.Tx) error {
			if err := tx.Put("b", "k4", []byte("panicked")); err != nil {
				return err
			}
			panic("boom")
		}),
		member{ctx: canceled, fn: func(tx store.Tx) error {
			if err := tx.Put("b", "k5", []byte("canceled")); err != nil {
				return err
			}
			cancel()
			return nil
		}},
		// Deletes what member 3 wrote in the same batch.
		m(func(tx store.Tx) error {
			if _, err := tx.DeletePrefix("b", "k3"); err != nil {
				return err
			}
			return tx.Put("b", "k6", []byte("last"))
		}),
	)
	want := []error{nil, errFailed, nil, nil, context.Canceled, nil}
	for i, err := range errs {
		if !errors.Is(err, want[i]) || (want[i] == nil) != (err == nil) {
			t.Errorf("member %d: Write = %v; want %v", i+1, err, want[i])
		}
	}
	if panics[3] != "boom" {
		t.Errorf("member 4's panic reached its caller as %v; want boom", panics[3])
	}
	if got := s.commits - commits; got != 1 {
		t.Errorf("the batch took %d commits; want 1", got)
	}
	for key, want := range map[string]string{
		"k0": "first", "k1": "first", "k2": "<none>", "k3": "<none>",
		"k4": "<none>", "k5": "<none>", "k6": "last",
	} {
		if got := getString(t, s, key); got != want {
			t.Errorf("after the batch, %s = %q; want %q", key, got, want)
		}
	}
}

// TestGroupCommitCanceledWhileQueued checks that a Write giving up while it
// waits for the turn neither runs nor strands the batch it would have
// joined.
func TestGroupCommitCanceledWhileQueued(t *testing.T) {
	s := openT(t, Options{Path: tempDB(t)})
	release := make(chan struct{})
	holding := make(chan struct{})
	var wg sync.WaitGroup
	var firstErr, lastErr, gaveUp error
	wg.Go(func() {
		firstErr = s.Write(t.Context(), func(tx store.Tx) error {
			close(holding)
			<-release
			return tx.Put("b", "first", []byte("v"))
		})
	})
	<-holding
	ctx, cancel := context.WithCancel(t.Context())
	ran := false
	wg.Go(func() {
		gaveUp = s.Write(ctx, func(tx store.Tx) error { ran = true; return nil })
	})
	queued(t, s, 1)
	wg.Go(func() { lastErr = s.Write(t.Context(), put("last", "v")) })
	queued(t, s, 2)
	cancel()
	queued(t, s, 1)
	close(release)
	wg.Wait()
	if firstErr != nil || lastErr != nil {
		t.Fatalf("Writes around the one that gave up: %v, %v", firstErr, lastErr)
	}
	if !errors.Is(gaveUp, context.Canceled) || ran {
		t.Errorf("the Write canceled while queued returned %v (fn ran: %v); want context.Canceled, fn not run", gaveUp, ran)
	}
	if getString(t, s, "first") != "v" || getString(t, s, "last") != "v" {
		t.Error("the other Writes were not committed")
	}
}

// TestGroupCommitBatchLost makes SQLite roll back a whole batch from inside
// one member (a trigger raising ROLLBACK): that member gets the error, the
// members that had joined before it run again and commit.
func TestGroupCommitBatchLost(t *testing.T) {
	path := tempDB(t)
	s := openT(t, Options{Path: path})
	other, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	_, err = other.Exec(`CREATE TRIGGER fail BEFORE INSERT ON kv WHEN NEW.key = 'bad'
		BEGIN SELECT RAISE(ROLLBACK, 'injected failure'); END`)
	if err != nil {
		t.Fatal(err)
	}
	runs := map[string]int{}
	counted := func(key string) func(store.Tx) error {
		return func(tx store.Tx) error { runs[key]++; return tx.Put("b", key, []byte("v")) }
	}
	errs, _ := inOneBatch(t, s, m(counted("a")), m(counted("b")),
		m(func(tx store.Tx) error {
			_ = tx.Put("b", "bad", []byte("x"))
			return tx.Put("b", "after", []byte("x")) // refused: the transaction is gone
		}),
		m(counted("c")))
	if errs[0] != nil || errs[1] != nil || errs[3] != nil {
		t.Errorf("innocent members: %v, %v, %v; want success", errs[0], errs[1], errs[3])
	}
	if errs[2] == nil || !strings.Contains(errs[2].Error(), "injected failure") {
		t.Errorf("failing member: %v; want its injected failure", errs[2])
	}
	if runs["a"] != 2 || runs["b"] != 2 || runs["c"] != 1 {
		t.Errorf("fn runs %v; want a and b twice (lost with the batch), c once", runs)
	}
	for key, want := range map[string]string{"a": "v", "b": "v", "c": "v", "bad": "<none>", "after": "<none>"} {
		if got := getString(t, s, key); got != want {
			t.Errorf("%s = %q; want %q", key, got, want)
		}
	}
}

// TestGroupCommitConcurrent runs many writers, some failing, against
// readers that check they never see a failed or unfinished Write's
// changes, and that a Write's changes are visible once it has returned.
// Run with -race.
func TestGroupCommitConcurrent(t *testing.T) {
	for _, path := range []string{Memory, "file"} {
		t.Run(path, func(t *testing.T) {
			if path == "file" {
				path = tempDB(t)
			}
			s := openT(t, Options{Path: path})
			const writers, each = 8, 40
			var (
				wg      sync.WaitGroup
				mu      sync.Mutex
				done    = map[string]bool{} // keys of Writes that returned nil
				stop    = make(chan struct{})
				readErr = make(chan error, 1)
			)
			report := func(err error) {
				select {
				case readErr <- err:
				default:
				}
			}
			for range 2 {
				wg.Go(func() {
					for {
						select {
						case <-stop:
							return
						default:
						}
						mu.Lock()
						must := make([]string, 0, len(done))
						for k := range done {
							must = append(must, k)
						}
						mu.Unlock()
						err := s.Read(t.Context(), func(tx store.Tx) error {
							for _, k := range must {
								if _, err := tx.Get("b", k); err != nil {
									return fmt.Errorf("%s returned from its Write but reads %w", k, err)
								}
							}
							return tx.Scan("b", "", "", 0, func(k string, v []byte) error {
								if string(v) != "ok" {
									return fmt.Errorf("a Read sees %s = %q, written by a failing Write", k, v)
								}
								return nil
							})
						})
						if err != nil {
							report(err)
							return
						}
					}
				})
			}
			var writersWG sync.WaitGroup
			errFail := errors.New("fail")
			for w := range writers {
				writersWG.Go(func() {
					r := rand.New(rand.NewPCG(uint64(w), 1))
					for i := range each {
						k := fmt.Sprintf("w%d/%03d", w, i)
						fails := r.IntN(4) == 0
						err := s.Write(t.Context(), func(tx store.Tx) error {
							if fails {
								if err := tx.Put("b", k, []byte("failed")); err != nil {
									return err
								}
								return errFail
							}
							return tx.Put("b", k, []byte("ok"))
						})
						switch {
						case fails && !errors.Is(err, errFail):
							t.Errorf("failing Write %s returned %v", k, err)
						case !fails && err != nil:
							t.Errorf("Write %s: %v", k, err)
						case !fails:
							mu.Lock()
							done[k] = true
							mu.Unlock()
						}
					}
				})
			}
			writersWG.Wait()
			close(stop)
			wg.Wait()
			select {
			case err := <-readErr:
				t.Fatal(err)
			default:
			}
			err := s.Read(t.Context(), func(tx store.Tx) error {
				n, err := tx.Count("b", "")
				if err == nil && n != len(done) {
					err = fmt.Errorf("%d keys stored; %d Writes succeeded", n, len(done))
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if path != Memory && s.commits >= int64(len(done)) {
				t.Logf("%d commits for %d Writes: no batch formed (a slow machine?)", s.commits, len(done))
			}
		})
	}
}

// TestGroupCommitClose closes the store while Writes queue: each either
// committed (and is there after reopening) or failed.
func TestGroupCommitClose(t *testing.T) {
	path := tempDB(t)
	s, err := Open(context.Background(), Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	holding := make(chan struct{})
	results := make([]error, 6)
	var wg sync.WaitGroup
	wg.Go(func() {
		results[0] = s.Write(context.Background(), func(tx store.Tx) error {
			close(holding)
			<-release
			return tx.Put("b", "k0", []byte("v"))
		})
	})
	<-holding
	for i := 1; i < len(results); i++ {
		wg.Go(func() { results[i] = s.Write(context.Background(), put(fmt.Sprintf("k%d", i), "v")) })
	}
	queued(t, s, len(results)-1)
	closed := make(chan error)
	go func() { closed <- s.Close() }()
	time.Sleep(10 * time.Millisecond) // let Close start waiting (not required for correctness)
	close(release)
	wg.Wait()
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if results[0] != nil {
		t.Errorf("the Write in progress at Close: %v", results[0])
	}
	s = openT(t, Options{Path: path})
	for i, err := range results {
		got := getString(t, s, fmt.Sprintf("k%d", i))
		if (err == nil) != (got == "v") {
			t.Errorf("k%d: Write returned %v, and after reopening reads %q", i, err, got)
		}
		if err != nil && !errors.Is(err, errClosed) {
			t.Errorf("k%d: Write failed with %v; want errClosed", i, err)
		}
	}
}
