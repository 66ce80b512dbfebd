package server

import "sync"

// knownAccounts remembers which accounts this process has already ensured
// exist, so that open mode's create-on-first-use costs one map lookup per
// request instead of a store write. It is only a cache of "exists", good
// for one reset generation of the store: a reset, through this instance or
// another, changes the generation and so empties it, and a miss simply
// ensures the account again.
type knownAccounts struct {
	mu  sync.RWMutex
	gen string
	ids map[string]struct{}
}

func (k *knownAccounts) has(gen, id string) bool {
	k.mu.RLock()
	defer k.mu.RUnlock()
	_, ok := k.ids[id]
	return ok && k.gen == gen
}

func (k *knownAccounts) add(gen, id string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.ids == nil || k.gen != gen {
		k.gen, k.ids = gen, map[string]struct{}{}
	}
	k.ids[id] = struct{}{}
}
