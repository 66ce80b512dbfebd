package organizations

import (
	"errors"

	api "github.com/orgstack/orgstack/internal/api/organizations"
	"github.com/orgstack/orgstack/internal/pagination"
	"github.com/orgstack/orgstack/internal/store"
)

// defaultPageSize is the page size when MaxResults is absent; the model
// bounds MaxResults to 1-20.
const defaultPageSize = 20

// pager reads one page of a List operation: where to resume, how many to
// return, and the NextToken of the page that follows.
type pager struct {
	signer *pagination.Signer
	scope  string
	after  string
	limit  int
}

// newPager prepares a page of the list named scope (the operation and
// what it lists, e.g. "ListAccountsForParent/ou-ab12-34cd5678"), so that a
// token from one list is refused by another.
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
		after, err := signer.Decode(scope, *nextToken)
		if errors.Is(err, pagination.ErrInvalidToken) {
			return nil, errInvalidNextToken()
		}
		if err != nil {
			return nil, err
		}
		p.after = after
	}
	return p, nil
}

// scan calls fn for the keys of one page, and asks for one key more so
// that it knows whether another page follows. It returns the NextToken
// for the response, nil on the last page.
func (p *pager) scan(tx store.Tx, bucket, prefix string, fn func(key string, value []byte) error) (*string, error) {
	n, last := 0, ""
	more := false
	err := tx.Scan(bucket, prefix, p.after, p.limit+1, func(key string, value []byte) error {
		if n == p.limit {
			more = true
			return store.ErrStop
		}
		n++
		last = key
		return fn(key, value)
	})
	if err != nil || !more {
		return nil, err
	}
	tok := p.signer.Encode(p.scope, last)
	return &tok, nil
}

func errInvalidNextToken() error {
	e := api.NewInvalidInputException("The NextToken is not valid for this request; start again without it.")
	e.Reason = ptr(api.InvalidInputExceptionReasonInvalidNextToken)
	return e
}
