package pagination

import (
	"errors"
	"testing"
)

// The fuzz targets check what List operations rely on. Seed corpora live
// in testdata/fuzz/<FuzzName>/; run e.g.
//
//	go test -run '^$' -fuzz '^FuzzDecode$' -fuzztime 60s ./internal/pagination

var fuzzKey = []byte("orgstack fuzz signing key")

// FuzzDecode feeds Decode arbitrary tokens: it never panics, refuses with
// ErrInvalidToken only, and accepts nothing but the exact token Encode
// makes for that list and position. The fuzzer holds no key, so every
// accepted token must be one of ours byte for byte: no other encoding of
// the same position, no edit, no token of another key or list.
func FuzzDecode(f *testing.F) {
	s := New(fuzzKey)
	for _, after := range []string{"", "111111111111", "ou-ab12-cdefgh12/x", "ünïcode"} {
		f.Add("ListAccounts/o-1", s.Encode("ListAccounts/o-1", after))
	}
	f.Add("ListAccounts/o-1", New([]byte("another key")).Encode("ListAccounts/o-1", "1"))
	f.Add("ListAccounts/o-2", s.Encode("ListAccounts/o-1", "1"))
	f.Add("", "")
	f.Add("x", ".")
	f.Fuzz(func(t *testing.T, scope, tok string) {
		after, err := s.Decode(scope, tok)
		if err != nil {
			if !errors.Is(err, ErrInvalidToken) || after != "" {
				t.Fatalf("Decode = %q, %v; want \"\" and ErrInvalidToken", after, err)
			}
			return
		}
		if want := s.Encode(scope, after); tok != want {
			t.Fatalf("accepted %q for %q at %q, but the token of that position is %q", tok, scope, after, want)
		}
		if _, err := New([]byte("another key")).Decode(scope, tok); err == nil {
			t.Fatalf("a signer with another key accepted %q", tok)
		}
	})
}

// FuzzRoundTrip checks that every position survives a token exactly, for
// its own list only.
func FuzzRoundTrip(f *testing.F) {
	f.Add("ListAccounts/o-1", "111111111111", "ListAccounts/o-2")
	f.Add("ListTagsForResource/ou-ab12-cdefgh12", "team\x00web", "")
	f.Add("s", "invalid \xff UTF-8", "s\xff")
	f.Fuzz(func(t *testing.T, scope, after, other string) {
		s := New(fuzzKey)
		tok := s.Encode(scope, after)
		got, err := s.Decode(scope, tok)
		if err != nil || got != after {
			t.Fatalf("Decode(Encode(%q, %q)) = %q, %v", scope, after, got, err)
		}
		if other != scope {
			if _, err := s.Decode(other, tok); err == nil {
				t.Fatalf("the token of list %q was accepted for list %q", scope, other)
			}
		}
	})
}
