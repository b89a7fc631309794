package tokenizer

import (
	"unicode"
	"unicode/utf8"
	"unsafe"
)

func isSpace(r rune) bool { return unicode.IsSpace(r) }

func lastRune(s []byte) (rune, int) {
	if len(s) == 0 {
		return 0, 0
	}
	return utf8.DecodeLastRune(s)
}

func firstRune(s []byte) (rune, int) {
	if len(s) == 0 {
		return 0, 0
	}
	return utf8.DecodeRune(s)
}

// bstr views b as a string without copying, for read-only scans (range over
// runes, searches) that finish before b is written again. Converting with
// string(b) would allocate for every text longer than 32 bytes.
func bstr(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// runeLen is the size utf8.DecodeRune(s) reports (1 for an invalid or
// truncated sequence, 0 for empty s) without decoding the rune: the hot
// loops only need character boundaries.
func runeLen(s []byte) int {
	if len(s) == 0 {
		return 0
	}
	c := s[0]
	switch {
	case c < 0x80:
		return 1
	case c < 0xC2 || c > 0xF4:
		return 1
	case c < 0xE0:
		if len(s) < 2 || s[1]&0xC0 != 0x80 {
			return 1
		}
		return 2
	case c < 0xF0:
		if len(s) < 3 {
			return 1
		}
		lo, hi := byte(0x80), byte(0xBF)
		if c == 0xE0 {
			lo = 0xA0
		} else if c == 0xED {
			hi = 0x9F
		}
		if s[1] < lo || s[1] > hi || s[2]&0xC0 != 0x80 {
			return 1
		}
		return 3
	default:
		if len(s) < 4 {
			return 1
		}
		lo, hi := byte(0x80), byte(0xBF)
		if c == 0xF0 {
			lo = 0x90
		} else if c == 0xF4 {
			hi = 0x8F
		}
		if s[1] < lo || s[1] > hi || s[2]&0xC0 != 0x80 || s[3]&0xC0 != 0x80 {
			return 1
		}
		return 4
	}
}
