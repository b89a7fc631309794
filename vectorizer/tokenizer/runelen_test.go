package tokenizer

import (
	"testing"
	"unicode/utf8"
)

// TestRuneLen compares runeLen with utf8.DecodeRune on every one- and
// two-byte string and on three- and four-byte strings around every lead
// byte's boundaries.
func TestRuneLen(t *testing.T) {
	check := func(b []byte) {
		if _, want := utf8.DecodeRune(b); runeLen(b) != want {
			t.Fatalf("runeLen(% x) = %d, DecodeRune says %d", b, runeLen(b), want)
		}
	}
	check(nil)
	edges := []byte{0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF}
	for a := 0; a < 256; a++ {
		check([]byte{byte(a)})
		for b := 0; b < 256; b++ {
			check([]byte{byte(a), byte(b)})
			if a < 0xE0 {
				continue // the bytes after a one- or two-byte lead do not count
			}
			for _, c := range edges {
				check([]byte{byte(a), byte(b), c})
				for _, d := range edges {
					check([]byte{byte(a), byte(b), c, d})
				}
			}
		}
	}
}
