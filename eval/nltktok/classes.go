// Package nltktok reproduces NLTK 3.8's word_tokenize (Punkt sentence
// splitting followed by the improved Treebank word tokenizer) so that
// XOR-TyDi's R@kt metric, which counts NLTK tokens, can be computed in Go
// with the same token boundaries as the official eval_xor_retrieve.py.
//
// Python's re module is Unicode-aware for \w, \d, \s and \b while both Go
// engines are ASCII-only for those shorthands, so every pattern below spells
// the Python classes out explicitly (checked code point by code point against
// CPython 3.11 in the tests).
package nltktok

import (
	"strings"
	"unicode"

	"github.com/dlclark/regexp2"
)

const (
	// pyW is Python's Unicode \w: exactly L* and N* categories plus '_'
	// (note: combining marks such as Devanagari vowel signs are NOT \w).
	pyW = `[\p{L}\p{N}_]`
	// pyNotW is Python's \W.
	pyNotW = `[^\p{L}\p{N}_]`
	// pyD is Python's Unicode \d.
	pyD = `\p{Nd}`
	// pySChars is the body of Python's Unicode \s (str.isspace()).
	pySChars = `\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000`
	pyS      = `[` + pySChars + `]`
	pyNotS   = `[^` + pySChars + `]`
	// pyB is Python's Unicode \b, written with lookarounds over pyW.
	pyB = `(?:(?<=` + pyW + `)(?!` + pyW + `)|(?<!` + pyW + `)(?=` + pyW + `))`
)

// compile expands the Python shorthands {W} {D} {S} {NS} {B} in a pattern
// and compiles it with regexp2, whose backtracking engine supports the
// lookarounds NLTK relies on and whose `$` (end or before a final newline)
// matches Python's.
func compile(pat string) *regexp2.Regexp {
	r := strings.NewReplacer(`{W}`, pyW, `{NW}`, pyNotW, `{D}`, pyD, `{S}`, pyS, `{NS}`, pyNotS, `{B}`, pyB)
	return regexp2.MustCompile(r.Replace(pat), regexp2.None)
}

// isPySpace reports str.isspace() for one code point.
func isPySpace(r rune) bool {
	switch {
	case r >= '\t' && r <= '\r', r >= 0x1c && r <= 0x20, r == 0x85, r == 0xa0, r == 0x1680,
		r >= 0x2000 && r <= 0x200a, r == 0x2028, r == 0x2029, r == 0x202f, r == 0x205f, r == 0x3000:
		return true
	}
	return false
}

// isPyAlnum reports whether r matches Python's \w.
func isPyWord(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsNumber(r)
}

// isPyUpper / isPyLower follow str.isupper()/islower() on one character,
// which use the Unicode Uppercase/Lowercase properties (Lu/Ll plus Other_*).
func isPyUpper(r rune) bool {
	return unicode.IsUpper(r) || unicode.Is(unicode.Other_Uppercase, r)
}

func isPyLower(r rune) bool {
	return unicode.IsLower(r) || unicode.Is(unicode.Other_Lowercase, r)
}

// pySplit is str.split() with no argument.
func pySplit(s string) []string {
	return strings.FieldsFunc(s, isPySpace)
}

// pyStrip is str.strip() with no argument.
func pyStrip(s string) string {
	return strings.TrimFunc(s, isPySpace)
}

func pyRStrip(s string) string {
	return strings.TrimRightFunc(s, isPySpace)
}
