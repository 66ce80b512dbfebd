package server

import "sync"

// knownAccounts remembers which accounts this process has already ensured
// exist, so that open mode's create-on-first-use costs one map lookup per
// request instead of a store read. It is only a cache of "exists": a reset
// clears it, and a miss simply reads the store again.
type knownAccounts struct {
	m sync.Map // account id -> struct{}
}

func (k *knownAccounts) has(id string) bool {
	_, ok := k.m.Load(id)
	return ok
}

func (k *knownAccounts) add(id string) { k.m.Store(id, struct{}{}) }

func (k *knownAccounts) clear() { k.m.Clear() }

// forgetAccounts drops the cache after the admin API or a reset changed
// the universe of accounts.
func (s *Server) forgetAccounts() { s.known.clear() }
