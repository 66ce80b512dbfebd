package main

import (
	"context"
	"errors"
	"fmt"
	"os"
)

// migrateCommand opens the configured store, which applies any pending
// migration, and says which engine and schema version it found. Operators
// run it before rolling out a new orgstack over a shared database, so
// that instances do not race to migrate at start (they would serialise on
// the migration lock anyway).
func migrateCommand(ctx context.Context, args []string) int {
	cfg, err := parseConfig(args, os.Getenv, os.Stderr)
	if err != nil {
		if errors.Is(err, flagHelp) {
			return 0
		}
		fmt.Fprintln(os.Stderr, "orgstack migrate:", err)
		return 2
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "orgstack migrate:", err)
		return 1
	}
	defer st.Close()
	info := st.Info()
	fmt.Printf("%s store at %s: schema version %d\n", info.Engine, info.Location, info.SchemaVersion)
	return 0
}
