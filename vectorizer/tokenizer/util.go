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
