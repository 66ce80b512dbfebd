package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"

	"github.com/orgstack/orgstack/internal/clock"
	"github.com/orgstack/orgstack/internal/organizations"
	"github.com/orgstack/orgstack/internal/server"
	"github.com/orgstack/orgstack/internal/throttle"
)

// flagHelp reports that -h was asked for and the usage printed.
var flagHelp = errors.New("help requested")

// config is what `orgstack serve` is told by flags and ORGSTACK_* variables.
type config struct {
	Listen         string
	DataDir        string
	Store          string // a PostgreSQL URL; empty for SQLite in DataDir
	StoreMaxConns  int
	Auth           server.AuthMode
	DefaultAccount string
	Clock          clock.Mode
	LogLevel       slog.Level
	LogFormat      string
	Sync           string
	// AdminToken guards the admin API in sigv4 mode; empty means the one
	// kept in the data dir (generated on first start).
	AdminToken string
	// Quotas are Organizations' quotas when the store holds no override.
	Quotas organizations.Quotas
	// Throttle is the per-account request rate of each service; zero: none.
	Throttle throttle.Limit
	// PprofListen, when set, is where Go's profiler answers (net/http/pprof).
	PprofListen string
}

// parseConfig reads flags; each flag's default comes from its environment
// variable when that is set, so flags win over the environment.
func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (*config, error) {
	fs := flag.NewFlagSet("orgstack serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	listen := fs.String("listen", env("ORGSTACK_LISTEN", "127.0.0.1:4566"), "address to listen on (ORGSTACK_LISTEN)")
	storeURL := fs.String("store", env("ORGSTACK_STORE", ""), "a PostgreSQL URL (postgres://user@host:5432/db) to keep state in a database that several orgstack instances share; empty: SQLite in --data-dir (ORGSTACK_STORE)")
	pgConns := fs.Int("store-max-conns", 0, "PostgreSQL connection pool size; 0: pgx's default (ORGSTACK_STORE_MAX_CONNS)")
	dataDir := fs.String("data-dir", env("ORGSTACK_DATA_DIR", "./.orgstack"), `directory of the embedded database, or ":memory:" (ORGSTACK_DATA_DIR)`)
	auth := fs.String("auth", env("ORGSTACK_AUTH", "open"), "authentication: open (signatures parsed, not verified) or sigv4 (ORGSTACK_AUTH)")
	account := fs.String("default-account", env("ORGSTACK_DEFAULT_ACCOUNT", "000000000000"), "account of requests whose access key id is not 12 digits (ORGSTACK_DEFAULT_ACCOUNT)")
	clk := fs.String("clock", env("ORGSTACK_CLOCK", "real"), "clock: real, or virtual (stands still until moved through the admin API) (ORGSTACK_CLOCK)")
	level := fs.String("log-level", env("ORGSTACK_LOG_LEVEL", "info"), "log level: debug, info, warn or error (ORGSTACK_LOG_LEVEL)")
	format := fs.String("log-format", env("ORGSTACK_LOG_FORMAT", "text"), "log format: text or json (ORGSTACK_LOG_FORMAT)")
	sync := fs.String("sync", env("ORGSTACK_SYNC", "full"), "SQLite durability: full (survives power loss) or normal (survives a crash of orgstack) (ORGSTACK_SYNC)")
	accountsPerOrg := fs.Int("quota-accounts-per-org", 0, "accounts per organization; 0 keeps AWS's default of 10 (ORGSTACK_QUOTA_ACCOUNTS_PER_ORG)")
	var quotaSets quotaFlag
	if v := getenv("ORGSTACK_QUOTAS"); v != "" {
		for _, kv := range strings.Split(v, ",") {
			quotaSets = append(quotaSets, strings.TrimSpace(kv))
		}
	}
	fs.Var(&quotaSets, "quota", "set any Organizations quota or background duration, as name=value (repeatable; names as GET /_orgstack/quotas shows them, e.g. ouDepth=5 or createAccountDuration=30s) (ORGSTACK_QUOTAS, comma-separated)")
	throttleSpec := fs.String("throttle", env("ORGSTACK_THROTTLE", ""), "limit each account's requests to each service, per instance, as rate[/s|/m|/h][,burst], e.g. 20/s or 20/s,40; over it Organizations answers TooManyRequestsException and Automation ThrottlingException; empty: no limit (ORGSTACK_THROTTLE)")
	pprofListen := fs.String("pprof-listen", env("ORGSTACK_PPROF_LISTEN", ""), "address where Go's profiler (net/http/pprof) answers, for performance work; empty: off (ORGSTACK_PPROF_LISTEN)")
	adminToken := fs.String("admin-token", "", "bearer token of the admin API with --auth sigv4; default: generated on first start and kept in the data dir (ORGSTACK_ADMIN_TOKEN)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, flagHelp
		}
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	c := &config{Listen: *listen, DataDir: *dataDir, DefaultAccount: *account, LogFormat: *format, Sync: *sync, AdminToken: *adminToken, Store: *storeURL, StoreMaxConns: *pgConns, PprofListen: *pprofListen}
	if c.AdminToken == "" {
		// Read after parsing, so that -h never prints the secret as a default.
		c.AdminToken = getenv("ORGSTACK_ADMIN_TOKEN")
	}
	switch server.AuthMode(*auth) {
	case server.AuthOpen, server.AuthSigV4:
		c.Auth = server.AuthMode(*auth)
	default:
		return nil, fmt.Errorf("--auth: unknown mode %q (want open or sigv4)", *auth)
	}
	if len(c.DefaultAccount) != 12 || strings.Trim(c.DefaultAccount, "0123456789") != "" {
		return nil, fmt.Errorf("--default-account: %q is not a 12-digit account id", c.DefaultAccount)
	}
	var err error
	if c.Clock, err = clock.ParseMode(*clk); err != nil {
		return nil, fmt.Errorf("--clock: %w", err)
	}
	if err := c.LogLevel.UnmarshalText([]byte(*level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return nil, fmt.Errorf("--log-format: unknown format %q (want text or json)", c.LogFormat)
	}
	if c.Sync != "full" && c.Sync != "normal" {
		return nil, fmt.Errorf("--sync: unknown mode %q (want full or normal)", c.Sync)
	}
	if c.Throttle, err = throttle.ParseLimit(*throttleSpec); err != nil {
		return nil, fmt.Errorf("--throttle: %w", err)
	}
	if c.Quotas, err = quotaSets.quotas(); err != nil {
		return nil, fmt.Errorf("--quota: %w", err)
	}
	n := *accountsPerOrg
	if n == 0 {
		if v := getenv("ORGSTACK_QUOTA_ACCOUNTS_PER_ORG"); v != "" {
			if n, err = strconv.Atoi(v); err != nil {
				return nil, fmt.Errorf("ORGSTACK_QUOTA_ACCOUNTS_PER_ORG: %q is not a number", v)
			}
		}
	}
	if n != 0 {
		c.Quotas.AccountsPerOrganization = n
	}
	if err := c.Quotas.Validate(); err != nil {
		return nil, fmt.Errorf("quotas: %w", err)
	}
	if c.Store != "" && !strings.HasPrefix(c.Store, "postgres://") && !strings.HasPrefix(c.Store, "postgresql://") {
		return nil, fmt.Errorf("--store: want a postgres:// URL (or nothing, for SQLite in --data-dir)")
	}
	if v := getenv("ORGSTACK_STORE_MAX_CONNS"); c.StoreMaxConns == 0 && v != "" {
		if c.StoreMaxConns, err = strconv.Atoi(v); err != nil || c.StoreMaxConns < 0 {
			return nil, fmt.Errorf("ORGSTACK_STORE_MAX_CONNS: %q is not a pool size", v)
		}
	}
	return c, nil
}

// quotaFlag collects --quota name=value settings.
type quotaFlag []string

func (f *quotaFlag) String() string { return strings.Join(*f, ",") }

func (f *quotaFlag) Set(v string) error {
	if !strings.Contains(v, "=") {
		return fmt.Errorf("%q is not name=value", v)
	}
	*f = append(*f, v)
	return nil
}

// quotas applies the settings to AWS's defaults, each value decoded as
// the JSON of GET /_orgstack/quotas would carry it (numbers, or duration
// strings such as "96h"). A dotted name sets one field of a nested quota,
// e.g. policySize.SERVICE_CONTROL_POLICY=5120.
func (f quotaFlag) quotas() (organizations.Quotas, error) {
	q := organizations.DefaultQuotas()
	for _, kv := range f {
		name, value, _ := strings.Cut(kv, "=")
		lit := value
		if _, err := strconv.Atoi(value); err != nil {
			lit = strconv.Quote(value)
		}
		doc := lit
		parts := strings.Split(name, ".")
		for i := len(parts) - 1; i >= 0; i-- {
			doc = `{` + strconv.Quote(parts[i]) + `:` + doc + `}`
		}
		dec := json.NewDecoder(strings.NewReader(doc))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&q); err != nil {
			return q, fmt.Errorf("%s: %v", kv, err)
		}
	}
	return q, nil
}

func (c *config) logger(w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.LogLevel}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
