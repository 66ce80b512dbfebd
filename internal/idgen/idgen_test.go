package idgen

import (
	"regexp"
	"testing"
)

func TestString(t *testing.T) {
	t.Parallel()
	re := regexp.MustCompile(`^[a-z0-9]{10}$`)
	seen := map[string]bool{}
	for range 1000 {
		s := String(LowerAlnum, 10)
		if !re.MatchString(s) {
			t.Fatalf("String(LowerAlnum, 10) = %q", s)
		}
		if seen[s] {
			t.Fatalf("duplicate id %q", s)
		}
		seen[s] = true
	}
}

func TestStringUsesWholeAlphabet(t *testing.T) {
	t.Parallel()
	counts := map[rune]int{}
	for _, r := range String(Digits, 10000) {
		counts[r]++
	}
	for _, d := range Digits {
		if c := counts[d]; c < 800 || c > 1200 {
			t.Errorf("digit %c drawn %d times in 10000, want about 1000", d, c)
		}
	}
}

func TestAccountID(t *testing.T) {
	t.Parallel()
	re := regexp.MustCompile(`^[1-9][0-9]{11}$`)
	for range 100 {
		if id := AccountID(); !re.MatchString(id) {
			t.Fatalf("AccountID() = %q", id)
		}
	}
}
