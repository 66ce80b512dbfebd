// Command orgstack serves AWS Organizations and AWS Compute Optimizer
// Automation on one port, for tests and local development.
//
//	orgstack [serve] [flags]   run the server (the default)
//	orgstack version           print the version
//	orgstack migrate           apply the store's migrations, print the version
package main

import (
	"context"
	"fmt"
	"os"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(run(context.Background(), os.Args[1:]))
}

func run(ctx context.Context, args []string) int {
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serveCommand(ctx, args)
	case "version":
		fmt.Println("orgstack", version)
		return 0
	case "migrate":
		return migrateCommand(ctx, args)
	case "help":
		fmt.Fprint(os.Stdout, usage)
		return 0
	}
	fmt.Fprintf(os.Stderr, "orgstack: unknown command %q\n\n%s", cmd, usage)
	return 2
}

const usage = `Usage:
  orgstack [serve] [flags]   serve AWS Organizations and Compute Optimizer Automation
  orgstack version           print the version
  orgstack migrate [flags]   apply the store's migrations and print its schema version
  orgstack serve -h          list the flags of serve
`
