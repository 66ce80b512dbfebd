package organizations

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/orgstack/orgstack/internal/store"
)

// indexVersion marks, in the store's shared meta bucket, a store whose
// OU indexes (names by parent, counts by organization) are complete:
// stores written before they existed get them built once, at the first
// start that needs them.
const (
	bucketMeta      = "meta"
	keyIndexVersion = "org.index-version"
	indexVersion    = "1"
)

// EnsureIndexes builds the indexes this package keeps beside its records
// if the store predates them. It is cheap when they exist; run it at start
// and in the transaction that resets the store.
func EnsureIndexes(tx store.Tx) error {
	v, err := tx.Get(bucketMeta, keyIndexVersion)
	switch {
	case err == nil && string(v) == indexVersion:
		return nil
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return err
	}
	for _, b := range []string{bucketOUNames, bucketCounts} {
		if _, err := tx.DeletePrefix(b, ""); err != nil {
			return err
		}
	}
	counts := map[string]int{}
	err = store.ScanJSON(tx, bucketOUs, "", "", 0, func(_ string, u *ou) error {
		counts[u.OrgID]++
		return tx.Put(bucketOUNames, ouNameKey(u.ParentID, u.Name), []byte(u.ID))
	})
	if err != nil {
		return fmt.Errorf("organizations: index OUs: %w", err)
	}
	for org, n := range counts {
		if err := tx.Put(bucketCounts, ouCountKey(org), []byte(strconv.Itoa(n))); err != nil {
			return err
		}
	}
	return tx.Put(bucketMeta, keyIndexVersion, []byte(indexVersion))
}
