package automation

import (
	"errors"
	"sort"

	api "github.com/orgstack/orgstack/internal/api/automation"
	"github.com/orgstack/orgstack/internal/pagination"
	"github.com/orgstack/orgstack/internal/store"
)

// defaultPageSize answers a List call without maxResults. AWS documents no
// default; every List operation's maxResults allows at least 100.
const defaultPageSize = 100

// pager pages a list whose items are gathered, filtered and sorted by key
// in memory (an account's rules, an organization's accounts), with signed
// opaque NextTokens that name the list they belong to.
type pager struct {
	signer *pagination.Signer
	scope  string
	after  string
	limit  int
}

// newPager reads nextToken for the list named scope. The store's signing
// key exists from the server's start (pagination.Ensure), so a read-only
// transaction is enough.
func newPager(tx store.Tx, scope string, nextToken *string, maxResults *int32) (*pager, error) {
	signer, err := pagination.Load(tx)
	if err != nil {
		return nil, err
	}
	p := &pager{signer: signer, scope: scope, limit: defaultPageSize}
	if maxResults != nil {
		p.limit = int(*maxResults) // the validator bounded it
	}
	if nextToken != nil {
		p.after, err = signer.Decode(scope, *nextToken)
		if errors.Is(err, pagination.ErrInvalidToken) {
			return nil, api.NewInvalidParameterValueException("The nextToken is not valid for this request; start again without it.")
		}
		if err != nil {
			return nil, err
		}
	}
	return p, nil
}

// window returns the sorted keys that follow the token's position, at
// most one page of them, and the NextToken of the rest (nil at the end).
func (p *pager) window(keys []string) ([]string, *string) {
	sort.Strings(keys)
	start := 0
	if p.after != "" {
		start = sort.Search(len(keys), func(i int) bool { return keys[i] > p.after })
	}
	keys = keys[start:]
	if len(keys) <= p.limit {
		return keys, nil
	}
	tok := p.signer.Encode(p.scope, keys[p.limit-1])
	return keys[:p.limit], &tok
}
