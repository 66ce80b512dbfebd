package sqlite

import (
	"context"
	"errors"
	"slices"
	"sync"
)

// Group commit.
//
// With Sync "full" a commit costs an fsync of the WAL, far more than the
// statements of a typical API call. Writes that queue while one commits
// therefore share the next commit: the Write holding the writer turn runs
// its fn inside a SAVEPOINT of a transaction that may already hold the
// work of earlier Writes, releases the savepoint, and then either hands
// the still-open transaction to the next queued Write or, when nobody
// waits (or the batch is full), commits it for everyone. No Write returns
// before the commit that holds its changes has completed, so durability
// is exactly that of one transaction per Write.
//
// Each fn runs on its caller's goroutine (a panic keeps its stack and
// reaches the caller), in arrival order, seeing what the earlier members
// of its batch wrote: the batch is the serial execution of its members.
// A member whose fn fails is rolled back to its savepoint and gets its
// error alone. If SQLite itself rolls back the whole transaction (an I/O
// error, an interrupted statement...) the members already in the batch
// run again in a new one; their fns may run more than once, which the
// store.Store contract allows.

// maxBatch bounds the Writes that share one commit, so that the first of
// them does not wait for an unbounded queue.
const maxBatch = 32

// errBatchLost is what the members of a batch get when the transaction
// was rolled back as a whole by a failure that was not theirs.
var errBatchLost = errors.New("sqlite: write batch rolled back by another write's failure")

// batch is the write transaction open on the writer connection. Only the
// Write holding the turn touches it; the turn's hand-over orders those
// accesses.
type batch struct {
	c       *conn
	ws      writeSet // the changes of the members so far, for the cache
	members int      // fns whose changes the batch holds
	done    chan struct{}
	err     error // the batch's outcome for its members, set before done closes
}

// merge adds the changes of a member to the batch's. A member's own
// writeSet records the prefixes it deleted and the keys it set after
// those deletions, so deleting its prefixes first and then setting its
// keys reproduces its effect.
func (w *writeSet) merge(m *writeSet) {
	if m.cleared {
		w.clear()
	}
	for _, p := range m.prefixes {
		w.deletePrefix(p)
	}
	for k, e := range m.changes {
		w.set(k, e)
	}
}

// turns hands the writer's turn to one Write at a time, in arrival order.
// Unlike a sync.Mutex a waiter can give up (its context ends, the store
// closes), and the holder can hand the turn directly to the next waiter
// only if there is one, atomically, which is what lets it leave a batch
// open: a batch is never left without a Write that will finish it.
type turns struct {
	mu    sync.Mutex
	held  bool
	queue []chan struct{} // closed to grant the turn
}

// acquire waits for the turn. It returns nil when the caller holds the
// turn, even if ctx ended while the turn was being granted: the caller
// must then end its turn like any holder.
func (q *turns) acquire(ctx context.Context, closing <-chan struct{}) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	q.mu.Lock()
	if !q.held {
		q.held = true
		q.mu.Unlock()
		return nil
	}
	ready := make(chan struct{})
	q.queue = append(q.queue, ready)
	q.mu.Unlock()
	var err error
	select {
	case <-ready:
		return nil
	case <-ctx.Done():
		err = ctx.Err()
	case <-closing:
		err = errClosed
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if i := slices.Index(q.queue, ready); i >= 0 {
		q.queue = slices.Delete(q.queue, i, i+1)
		return err
	}
	return nil // granted meanwhile
}

// handOn gives the turn to the first waiter, if any, and says whether it
// did; otherwise the caller keeps the turn.
func (q *turns) handOn() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.grantLocked()
}

// release gives the turn to the first waiter or frees it.
func (q *turns) release() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.grantLocked() {
		q.held = false
	}
}

func (q *turns) grantLocked() bool {
	if len(q.queue) == 0 {
		return false
	}
	close(q.queue[0])
	q.queue = q.queue[1:]
	return true
}
