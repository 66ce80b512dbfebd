package sqlite

import (
	"strings"
	"sync"
)

// cache keeps committed values that this process read or wrote, so that a
// point read usually costs a map lookup instead of a SQLite statement.
// Orgstack answers most calls from a handful of Gets (the caller's
// membership, its organization, ...); going through database/sql for each
// made the store the largest cost of a read-only API call.
//
// The cache is exact, not eventually consistent: it is only correct
// because this process is the database's only writer (Open takes a lock
// file to make sure), and because of the fence. A Read holds the fence
// shared for its whole life; a batch of Writes takes it exclusively only
// around its COMMIT and the application of its changes to the cache. So a
// Read sees the cache and any SQLite snapshot it opens at the same commit,
// and a Write, being the only writer, finds committed state in the cache
// once it has looked at what it and the earlier members of its batch
// changed (group.go).
type cache struct {
	fence sync.RWMutex

	mu      sync.Mutex
	entries map[string]cached
	bytes   int // the memory the entries take, as size estimates
	budget  int // bytes kept before eviction
}

// cached is a value, or the knowledge that the key does not exist.
type cached struct {
	value []byte
	found bool
}

// defaultCacheBudget bounds the memory the entries take: the records a call
// reads (account, membership, organization, parents, tags) of tens of
// thousands of accounts, well inside the memory orgstack aims for.
const defaultCacheBudget = 16 << 20

// entryOverhead is what an entry takes besides its key's and value's bytes:
// the map's slot, the string and slice headers and the rounding of the two
// allocations, about.
const entryOverhead = 96

func entrySize(k string, e cached) int { return len(k) + len(e.value) + entryOverhead }

// bulkWrite is the number of changed keys above which a commit updates only
// the entries the cache has rather than adding all it wrote: a bulk load
// (generated volumes, a reset) would otherwise push out the records that
// calls keep reading, for values that may never be read.
const bulkWrite = 256

func newCache(budget int) *cache {
	return &cache{entries: make(map[string]cached), budget: budget}
}

// cacheKey joins bucket and key; bucket names never contain NUL, so the
// first NUL always separates them.
func cacheKey(bucket, key string) string { return bucket + "\x00" + key }

func (c *cache) get(k string) (cached, bool) {
	c.mu.Lock()
	e, ok := c.entries[k]
	c.mu.Unlock()
	return e, ok
}

// put records a committed value (or absence) of key k.
func (c *cache) put(k string, e cached) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.putLocked(k, e)
}

func (c *cache) putLocked(k string, e cached) {
	if old, ok := c.entries[k]; ok {
		c.bytes -= entrySize(k, old)
	}
	c.entries[k] = e
	c.bytes += entrySize(k, e)
	if c.bytes > c.budget {
		c.evictLocked()
	}
}

// evictLocked drops entries until the cache is at three quarters of its
// budget. Go's map iteration order is random, which makes this random
// eviction: cheap, and good enough for a cache that only saves time.
func (c *cache) evictLocked() {
	for k, e := range c.entries {
		if c.bytes <= c.budget*3/4 {
			return
		}
		delete(c.entries, k)
		c.bytes -= entrySize(k, e)
	}
}

// apply installs the changes of a committed write transaction. The caller
// holds the fence exclusively.
func (c *cache) apply(w *writeSet) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if w.cleared {
		c.entries = make(map[string]cached)
		c.bytes = 0
	}
	for _, p := range w.prefixes {
		for k, e := range c.entries {
			if strings.HasPrefix(k, p) {
				delete(c.entries, k)
				c.bytes -= entrySize(k, e)
			}
		}
	}
	bulk := len(w.changes) > bulkWrite
	for k, e := range w.changes {
		if _, ok := c.entries[k]; ok || !bulk {
			c.putLocked(k, e)
		}
	}
}

// writeSet is what a write transaction changed, to be applied to the cache
// when it commits and consulted by its own reads before then.
type writeSet struct {
	changes  map[string]cached
	prefixes []string // cache-key prefixes deleted with DeletePrefix
	cleared  bool     // every key deleted (Reset)
}

func (w *writeSet) set(k string, e cached) {
	if w.changes == nil {
		w.changes = make(map[string]cached)
	}
	w.changes[k] = e
}

func (w *writeSet) deletePrefix(p string) {
	for k := range w.changes {
		if strings.HasPrefix(k, p) {
			delete(w.changes, k)
		}
	}
	w.prefixes = append(w.prefixes, p)
}

func (w *writeSet) clear() {
	w.changes, w.prefixes, w.cleared = nil, nil, true
}

// lookup says what the transaction itself did to key k: known is false when
// it did not touch it.
func (w *writeSet) lookup(k string) (e cached, known bool) {
	if e, ok := w.changes[k]; ok {
		return e, true
	}
	if w.cleared {
		return cached{}, true
	}
	for _, p := range w.prefixes {
		if strings.HasPrefix(k, p) {
			return cached{}, true
		}
	}
	return cached{}, false
}
