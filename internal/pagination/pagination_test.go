package pagination

import (
	"context"
	"errors"
	"testing"

	"github.com/orgstack/orgstack/internal/store"
	"github.com/orgstack/orgstack/internal/store/sqlite"
)

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	s := New([]byte("k"))
	for _, after := range []string{"", "123456789012", "ou-ab12-cdefgh12/x", "ünïcode"} {
		tok := s.Encode("ListAccounts/o-1", after)
		got, err := s.Decode("ListAccounts/o-1", tok)
		if err != nil || got != after {
			t.Errorf("Decode(Encode(%q)) = %q, %v", after, got, err)
		}
	}
}

func TestRefusesForeignAndTamperedTokens(t *testing.T) {
	t.Parallel()
	s := New([]byte("k"))
	tok := s.Encode("ListAccounts/o-1", "111111111111")
	flip := func(c byte) string {
		if c == 'A' {
			return "B"
		}
		return "A"
	}
	tests := map[string]struct{ scope, tok string }{
		"other list":    {"ListAccounts/o-2", tok},
		"other key":     {"ListAccounts/o-1", New([]byte("other")).Encode("ListAccounts/o-1", "111111111111")},
		"edited body":   {"ListAccounts/o-1", flip(tok[0]) + tok[1:]},
		"edited mac":    {"ListAccounts/o-1", tok[:len(tok)-2] + flip(tok[len(tok)-2]) + tok[len(tok)-1:]},
		"no separator":  {"ListAccounts/o-1", "abc"},
		"not base64":    {"ListAccounts/o-1", "!!!.???"},
		"empty":         {"ListAccounts/o-1", ""},
		"just a dot":    {"ListAccounts/o-1", "."},
		"truncated mac": {"ListAccounts/o-1", tok[:len(tok)-4]},
		"line break":    {"ListAccounts/o-1", tok[:5] + "\r\n" + tok[5:]}, // the base64 decoder would skip it
	}
	for name, tt := range tests {
		if _, err := s.Decode(tt.scope, tt.tok); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("%s: Decode = %v, want ErrInvalidToken", name, err)
		}
	}
}

func TestKeyIsKeptInTheStore(t *testing.T) {
	t.Parallel()
	st, err := sqlite.Open(context.Background(), sqlite.Options{Path: sqlite.Memory})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var a, b *Signer
	for _, s := range []**Signer{&a, &b} {
		if err := st.Write(context.Background(), func(tx store.Tx) error {
			var err error
			*s, err = Load(tx)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.Decode("x", a.Encode("x", "pos")); err != nil {
		t.Fatalf("a token from one load is refused by the next: %v", err)
	}
}
