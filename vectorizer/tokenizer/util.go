package tokenizer

import (
	"unicode"
	"unicode/utf8"
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
