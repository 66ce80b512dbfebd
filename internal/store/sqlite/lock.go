//go:build unix

package sqlite

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// ErrLocked is returned by Open when another process has the database open.
var ErrLocked = errors.New("sqlite: the database is in use by another process")

// lockFile takes an exclusive advisory lock beside the database. The Store
// caches committed values in memory, which is only right while this
// process is the database's only writer; two orgstack processes on one
// data directory would also each believe they run its background work.
func lockFile(dbPath string) (*os.File, error) {
	f, err := os.OpenFile(dbPath+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sqlite: lock %s: %w", dbPath, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: %s (is another orgstack running with the same --data-dir?)", ErrLocked, dbPath)
		}
		return nil, fmt.Errorf("sqlite: lock %s: %w", dbPath, err)
	}
	return f, nil
}
