// Package idgen makes the random identifiers AWS resources carry
// (o-…, r-…, ou-…, 12-digit account ids, 16-character rule ids).
package idgen

import (
	"crypto/rand"
)

const (
	LowerAlnum = "abcdefghijklmnopqrstuvwxyz0123456789"
	Digits     = "0123456789"
	Alnum      = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
)

// String returns n characters drawn uniformly from alphabet (at most 256
// characters long) with crypto/rand, so that ids never repeat in practice
// and carry no sequence a test could come to depend on.
func String(alphabet string, n int) string {
	out := make([]byte, n)
	// Rejection sampling keeps the draw uniform for any alphabet size.
	limit := 256 - 256%len(alphabet)
	buf := make([]byte, n+n/2+8)
	for i := 0; i < n; {
		rand.Read(buf) // never fails: crypto/rand panics rather than return an error
		for _, b := range buf {
			if int(b) >= limit {
				continue
			}
			out[i] = alphabet[int(b)%len(alphabet)]
			i++
			if i == n {
				break
			}
		}
	}
	return string(out)
}

// AccountID returns a random 12-digit account id that does not start with 0,
// so that it is never mistaken for the default account 000000000000.
func AccountID() string {
	return String("123456789", 1) + String(Digits, 11)
}
