package automation

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	api "github.com/orgstack/orgstack/internal/api/automation"
	"github.com/orgstack/orgstack/internal/store"
)

// bucketIdempotency remembers what a client token did: account + "/" +
// operation + "/" + token -> idemRecord. Tokens are scoped per account and
// per operation, so the same token in two operations means two requests.
const bucketIdempotency = "aco.idempotency"

// tokenLifetime is how long a clientToken keeps its first result
// (model doc of AssociateAccountsRequest.clientToken: valid 24 hours).
const tokenLifetime = 24 * time.Hour

// idemRecord is the first request made with a token and what it answered.
type idemRecord struct {
	Fingerprint string          `json:"fingerprint"` // of the request without its token
	Response    json.RawMessage `json:"response"`
	Expires     time.Time       `json:"expires"`
}

// idempotent runs work at most once per (account, operation, token) within
// the token's lifetime, inside the caller's write transaction:
//
//   - no token: work runs, nothing is remembered;
//   - a live token with the same parameters: the stored response, and work
//     does not run;
//   - a live token with other parameters: IdempotentParameterMismatchException;
//   - otherwise work runs and its response is stored in the same
//     transaction, so the record exists exactly when the work committed. A
//     failed request stores nothing and may be retried with its token.
//
// IdempotencyTokenInUseException answers a retry that arrives while the
// first request is still running. Here every request does all of its work
// in one serializable transaction, so a concurrent retry waits for the
// first to commit and then finds its record: the first request is never
// observably "still running", and that error is never needed.
func idempotent[Out any](tx store.Tx, now time.Time, account, op string, token *string, in any, work func() (*Out, error)) (*Out, error) {
	if token == nil {
		return work()
	}
	fp, err := fingerprint(in)
	if err != nil {
		return nil, err
	}
	key := account + "/" + op + "/" + *token
	rec, err := store.GetJSON[idemRecord](tx, bucketIdempotency, key)
	switch {
	case err == nil && now.Before(rec.Expires):
		if rec.Fingerprint != fp {
			return nil, api.NewIdempotentParameterMismatchException(fmt.Sprintf(
				"The clientToken %s was already used with different parameters for %s; use a new token for a different request.", *token, op))
		}
		out := new(Out)
		if err := json.Unmarshal(rec.Response, out); err != nil {
			return nil, fmt.Errorf("automation: decode remembered %s response: %w", op, err)
		}
		return out, nil
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return nil, err
	}
	out, err := work()
	if err != nil {
		return nil, err
	}
	resp, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("automation: encode %s response: %w", op, err)
	}
	if err := store.PutJSON(tx, bucketIdempotency, key, &idemRecord{Fingerprint: fp, Response: resp, Expires: now.Add(tokenLifetime)}); err != nil {
		return nil, err
	}
	return out, nil
}

// fingerprint digests a request's parameters, its clientToken left out,
// in a canonical form (JSON objects with sorted keys).
func fingerprint(in any) (string, error) {
	b, err := json.Marshal(in)
	if err != nil {
		return "", fmt.Errorf("automation: fingerprint: %w", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return "", fmt.Errorf("automation: fingerprint: %w", err)
	}
	delete(m, "clientToken")
	b, err = json.Marshal(m)
	if err != nil {
		return "", fmt.Errorf("automation: fingerprint: %w", err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}
