package accounts

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/orgstack/orgstack/internal/store"
	"github.com/orgstack/orgstack/internal/store/sqlite"
)

func newStore(t *testing.T) store.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), sqlite.Options{Path: ":memory:"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestRegisterAndKeys(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	ctx := context.Background()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	var a *Account
	var c *Credential
	err := st.Write(ctx, func(tx store.Tx) error {
		var err error
		a, c, err = Register(tx, Registration{Standalone: FullStandalone}, now)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if !ValidID(a.ID) || !IsAccessKeyID(c.AccessKeyID) || !strings.HasPrefix(c.AccessKeyID, "AKIA") || len(c.SecretAccessKey) != 40 || c.Temporary() {
		t.Fatalf("registered %+v with %s", a, c)
	}
	for _, tc := range []struct {
		name string
		reg  Registration
		want error
	}{
		{"taken id", Registration{ID: a.ID}, ErrExists},
		{"taken email", Registration{Email: strings.ToUpper(a.Email)}, ErrEmailTaken},
		{"bad id", Registration{ID: "12345678901x"}, ErrInvalid},
		{"bad email", Registration{Email: "a@b"}, ErrInvalid},
		{"empty-looking name", Registration{Name: "tab\there"}, ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := st.Write(ctx, func(tx store.Tx) error {
				_, _, err := Register(tx, tc.reg, now)
				return err
			})
			if !errors.Is(err, tc.want) {
				t.Errorf("Register(%+v) = %v, want %v", tc.reg, err, tc.want)
			}
		})
	}

	var token string
	var s *Credential
	err = st.Write(ctx, func(tx store.Tx) error {
		var err error
		s, token, err = NewSessionKey(tx, a.ID, Session{RoleName: "R", SessionName: "x", Expiration: now.Add(time.Hour)}, now)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s.AccessKeyID, "ASIA") || !IsAccessKeyID(s.AccessKeyID) || !s.Session.TokenMatches(token) || s.Session.TokenMatches(token+"x") {
		t.Fatalf("session %s", s)
	}
	err = st.Read(ctx, func(tx store.Tx) error {
		got, err := LookupKey(tx, s.AccessKeyID)
		if err != nil {
			return err
		}
		if got.Session == nil || !got.Session.TokenMatches(token) || strings.Contains(got.Session.TokenHash, token) {
			return fmt.Errorf("stored session %+v", got.Session)
		}
		ids, err := KeyIDs(tx, a.ID)
		if len(ids) != 2 {
			return fmt.Errorf("KeyIDs = %v, %v", ids, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = st.Write(ctx, func(tx store.Tx) error {
		if err := DeleteKey(tx, "999999999999", c.AccessKeyID); !errors.Is(err, ErrNoKey) {
			return fmt.Errorf("deleting through another account: %v", err)
		}
		if err := DeleteKey(tx, a.ID, c.AccessKeyID); err != nil {
			return err
		}
		_, err := LookupKey(tx, c.AccessKeyID)
		if !errors.Is(err, ErrNoKey) {
			return fmt.Errorf("after delete: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestCredentialNeverPrintsItsSecret(t *testing.T) {
	t.Parallel()
	c := &Credential{AccessKeyID: "AKIAAAAAAAAAAAAAAAAA", SecretAccessKey: "very-secret", AccountID: "111111111111"}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "cred", c)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "cred", c)
	fmt.Fprint(&buf, c, " ")
	fmt.Fprintf(&buf, "%v %s", c, c)
	if strings.Contains(buf.String(), "very-secret") || !strings.Contains(buf.String(), "AKIAAAAAAAAAAAAAAAAA") {
		t.Fatalf("log: %s", buf.String())
	}
}

func TestIsAccessKeyID(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]bool{
		"AKIAAAAAAAAAAAAAAAAA": true, "ASIA234567ABCDEFGHIJ": true, "AKIAIOSFODNN7EXAMPLE": true,
		"AKIA0AAAAAAAAAAAAAAA": false, "AROAAAAAAAAAAAAAAAAA": false, "AKIAAAAAAAAAAAAAAAA": false, "111111111111": false,
	} {
		if got := IsAccessKeyID(s); got != want {
			t.Errorf("IsAccessKeyID(%q) = %v", s, got)
		}
	}
}

func TestPurgeExpiredSessions(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	ctx := context.Background()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	var ids []string
	err := st.Write(ctx, func(tx store.Tx) error {
		if _, err := Ensure(tx, "111111111111", now); err != nil {
			return err
		}
		for i := 1; i <= 3; i++ {
			c, _, err := NewSessionKey(tx, "111111111111", Session{Expiration: now.Add(time.Duration(i) * time.Hour)}, now)
			if err != nil {
				return err
			}
			ids = append(ids, c.AccessKeyID)
		}
		// One deleted by hand first: the purge must not trip over it.
		return DeleteKey(tx, "111111111111", ids[0])
	})
	if err != nil {
		t.Fatal(err)
	}
	err = st.Write(ctx, func(tx store.Tx) error {
		n, err := PurgeExpiredSessions(tx, now.Add(150*time.Minute), 10)
		if err != nil || n != 1 {
			return fmt.Errorf("purged %d, %v; want 1", n, err)
		}
		if _, err := LookupKey(tx, ids[1]); !errors.Is(err, ErrNoKey) {
			return fmt.Errorf("expired session still there: %v", err)
		}
		if _, err := LookupKey(tx, ids[2]); err != nil {
			return fmt.Errorf("live session purged: %v", err)
		}
		left, err := KeyIDs(tx, "111111111111")
		if len(left) != 1 || left[0] != ids[2] {
			return fmt.Errorf("keys left %v, %v", left, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
