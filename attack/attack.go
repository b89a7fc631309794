// Package attack makes seeded, reproducible query perturbations for
// robustness studies: character insertion, deletion, substitution and
// swap on grapheme clusters; keyboard-neighbour typos where a layout is
// defined (fi, ru, ar, ko); removal of Arabic harakat and of Bengali and
// Telugu vowel signs and virama; Japanese and Korean segmentation
// (spacing) changes; word-order swaps; and paraphrases through a
// Paraphraser (the generator implements it). It also scores clean versus
// attacked retrieval.
package attack

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"unicode"

	"github.com/rivo/uniseg"
)

// Type names one perturbation.
type Type string

// The perturbation types.
const (
	Insert     Type = "insert"     // insert a letter of the query's script
	Delete     Type = "delete"     // delete one grapheme cluster
	Substitute Type = "substitute" // replace one letter cluster by another letter
	Swap       Type = "swap"       // swap two adjacent letter clusters of a word
	Keyboard   Type = "keyboard"   // replace a letter by a keyboard neighbour
	Diacritics Type = "diacritics" // drop harakat (ar) or vowel signs/virama (bn, te)
	Segment    Type = "segment"    // change spacing (ja, ko)
	WordSwap   Type = "wordswap"   // swap two adjacent words
	Paraphrase Type = "paraphrase" // rewrite with a Paraphraser
)

// AllTypes lists the types in a stable order.
var AllTypes = []Type{Insert, Delete, Substitute, Swap, Keyboard, Diacritics, Segment, WordSwap, Paraphrase}

// ParseTypes parses a comma-separated list ("all" for every type).
func ParseTypes(s string) ([]Type, error) {
	if strings.TrimSpace(s) == "all" {
		return append([]Type(nil), AllTypes...), nil
	}
	var out []Type
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		ok := false
		for _, t := range AllTypes {
			if string(t) == f {
				out = append(out, t)
				ok = true
			}
		}
		if !ok {
			return nil, fmt.Errorf("attack: unknown type %q (want %s)", f, typeList())
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("attack: no types given (want %s)", typeList())
	}
	return out, nil
}

func typeList() string {
	var s []string
	for _, t := range AllTypes {
		s = append(s, string(t))
	}
	return strings.Join(s, ", ")
}

// Families maps the XOR-TyDi languages to their language families.
var Families = map[string]string{
	"ar": "Afro-Asiatic", "bn": "Indo-Aryan", "te": "Dravidian", "fi": "Uralic",
	"ja": "Japonic", "ko": "Koreanic", "ru": "Slavic",
}

// ErrNotApplicable means the perturbation cannot change this text (e.g.
// Arabic text without harakat, or a one-word query for a word swap).
var ErrNotApplicable = errors.New("attack: perturbation not applicable to this text")

// Paraphraser rewrites a query in its own language.
type Paraphraser interface {
	Paraphrase(ctx context.Context, text, lang string) (string, error)
}

// alphabets are the letters inserted or substituted per language.
var alphabets = map[string][]rune{
	"fi": []rune("abcdefghijklmnopqrstuvwxyzåäö"),
	"ru": []rune("абвгдеёжзийклмнопрстуфхцчшщъыьэюя"),
	"ar": runeRange(0x0627, 0x064A, func(r rune) bool { return unicode.IsLetter(r) && (r < 0x063B || r > 0x0640) }),
	"bn": runeRange(0x0995, 0x09B9, unicode.IsLetter),
	"te": runeRange(0x0C15, 0x0C39, unicode.IsLetter),
	"ja": runeRange(0x3042, 0x3093, func(r rune) bool { return unicode.Is(unicode.Hiragana, r) }),
	"en": []rune("abcdefghijklmnopqrstuvwxyz"),
}

func runeRange(lo, hi rune, keep func(rune) bool) []rune {
	var out []rune
	for r := lo; r <= hi; r++ {
		if keep(r) {
			out = append(out, r)
		}
	}
	return out
}

// randomLetter returns a letter of lang's script (Korean: a random
// syllable built from common jamo).
func randomLetter(lang string, rng *rand.Rand) string {
	if lang == "ko" {
		return string(rune(0xAC00 + (rng.IntN(19)*21+rng.IntN(21))*28))
	}
	a, ok := alphabets[lang]
	if !ok {
		a = alphabets["en"]
	}
	return string(a[rng.IntN(len(a))])
}

// cluster is one grapheme cluster and its byte offset.
type cluster struct {
	s     string
	start int
}

func clusters(text string) []cluster {
	var out []cluster
	g := uniseg.NewGraphemes(text)
	for g.Next() {
		from, _ := g.Positions()
		out = append(out, cluster{g.Str(), from})
	}
	return out
}

func isLetterCluster(c cluster) bool {
	for _, r := range c.s {
		return unicode.IsLetter(r)
	}
	return false
}

func letterIdx(cs []cluster) []int {
	var idx []int
	for i, c := range cs {
		if isLetterCluster(c) {
			idx = append(idx, i)
		}
	}
	return idx
}

func join(cs []cluster) string {
	var b strings.Builder
	for _, c := range cs {
		b.WriteString(c.s)
	}
	return b.String()
}

// Options tune Perturb.
type Options struct {
	// Edits is how many edits one perturbation makes (default 1).
	Edits int
	// Paraphraser is required for Paraphrase.
	Paraphraser Paraphraser
}

// Perturb applies typ to text in language lang using rng. The result
// always differs from text, or the error is ErrNotApplicable.
func Perturb(ctx context.Context, text, lang string, typ Type, rng *rand.Rand, opt Options) (string, error) {
	edits := max(opt.Edits, 1)
	if typ == Paraphrase {
		if opt.Paraphraser == nil {
			return "", fmt.Errorf("attack: paraphrase needs a paraphraser (the generator)")
		}
		out, err := opt.Paraphraser.Paraphrase(ctx, text, lang)
		if err != nil {
			return "", fmt.Errorf("attack: paraphrase: %w", err)
		}
		if out == text || strings.TrimSpace(out) == "" {
			return "", ErrNotApplicable
		}
		return out, nil
	}
	out := text
	for range edits {
		next, err := perturbOnce(out, lang, typ, rng)
		if err != nil {
			if out != text && errors.Is(err, ErrNotApplicable) {
				break // later edits ran out of targets (e.g. all harakat gone)
			}
			return "", err
		}
		out = next
	}
	if out == text {
		return "", ErrNotApplicable
	}
	return out, nil
}

func perturbOnce(text, lang string, typ Type, rng *rand.Rand) (string, error) {
	cs := clusters(text)
	letters := letterIdx(cs)
	switch typ {
	case Insert:
		if len(letters) == 0 {
			return "", ErrNotApplicable
		}
		// Insert inside or at the end of a word: after a letter cluster.
		i := letters[rng.IntN(len(letters))] + 1
		ins := cluster{s: randomLetter(lang, rng)}
		cs = append(cs[:i], append([]cluster{ins}, cs[i:]...)...)
		return join(cs), nil
	case Delete:
		if len(letters) < 2 {
			return "", ErrNotApplicable
		}
		i := letters[rng.IntN(len(letters))]
		return join(append(cs[:i:i], cs[i+1:]...)), nil
	case Substitute:
		if len(letters) == 0 {
			return "", ErrNotApplicable
		}
		i := letters[rng.IntN(len(letters))]
		for range 20 {
			if l := randomLetter(lang, rng); l != cs[i].s {
				cs[i].s = l
				return join(cs), nil
			}
		}
		return "", ErrNotApplicable
	case Swap:
		var pairs []int
		for j := 0; j+1 < len(cs); j++ {
			if isLetterCluster(cs[j]) && isLetterCluster(cs[j+1]) && cs[j].s != cs[j+1].s {
				pairs = append(pairs, j)
			}
		}
		if len(pairs) == 0 {
			return "", ErrNotApplicable
		}
		j := pairs[rng.IntN(len(pairs))]
		cs[j], cs[j+1] = cs[j+1], cs[j]
		return join(cs), nil
	case Keyboard:
		return keyboardTypo(text, lang, rng)
	case Diacritics:
		return removeMark(text, lang, rng)
	case Segment:
		return segment(text, lang, rng)
	case WordSwap:
		return wordSwap(text, lang, rng)
	}
	return "", fmt.Errorf("attack: unknown type %q", typ)
}

// Hangul syllable composition (Unicode §3.12) over compatibility jamo.
var (
	hangulL = []rune("ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ")
	hangulV = []rune("ㅏㅐㅑㅒㅓㅔㅕㅖㅗㅘㅙㅚㅛㅜㅝㅞㅟㅠㅡㅢㅣ")
)

func indexOf(rs []rune, r rune) int {
	for i, x := range rs {
		if x == r {
			return i
		}
	}
	return -1
}

func keyboardTypo(text, lang string, rng *rand.Rand) (string, error) {
	if _, ok := layouts[lang]; !ok {
		return "", fmt.Errorf("attack: no keyboard layout for %q (have %v): %w", lang, KeyboardLangs(), ErrNotApplicable)
	}
	rs := []rune(text)
	type cand struct {
		pos  int
		repl []rune
	}
	var cands []cand
	for i, r := range rs {
		if lang == "ko" && r >= 0xAC00 && r <= 0xD7A3 {
			s := int(r - 0xAC00)
			l, v, tl := s/(21*28), (s/28)%21, s%28
			for _, n := range neighbours(lang, hangulL[l]) {
				if li := indexOf(hangulL, n); li >= 0 {
					cands = append(cands, cand{i, []rune{rune(0xAC00 + (li*21+v)*28 + tl)}})
				}
			}
			for _, n := range neighbours(lang, hangulV[v]) {
				if vi := indexOf(hangulV, n); vi >= 0 {
					cands = append(cands, cand{i, []rune{rune(0xAC00 + (l*21+vi)*28 + tl)}})
				}
			}
			continue
		}
		lower := unicode.ToLower(r)
		for _, n := range neighbours(lang, lower) {
			if lower != r {
				n = unicode.ToUpper(n)
			}
			cands = append(cands, cand{i, []rune{n}})
		}
	}
	if len(cands) == 0 {
		return "", ErrNotApplicable
	}
	c := cands[rng.IntN(len(cands))]
	out := append(append(append([]rune{}, rs[:c.pos]...), c.repl...), rs[c.pos+1:]...)
	return string(out), nil
}

// IsRemovableMark reports whether r is what Diacritics removes for lang:
// Arabic harakat (fathatan..sukun, U+064B–U+0652, and the superscript
// alef U+0670); Bengali and Telugu dependent vowel signs and the virama.
func IsRemovableMark(lang string, r rune) bool {
	switch lang {
	case "ar":
		return (r >= 0x064B && r <= 0x0652) || r == 0x0670
	case "bn":
		return (r >= 0x09BE && r <= 0x09C4) || r == 0x09C7 || r == 0x09C8 || (r >= 0x09CB && r <= 0x09CD) || r == 0x09D7
	case "te":
		return (r >= 0x0C3E && r <= 0x0C4D) || r == 0x0C55 || r == 0x0C56
	}
	return false
}

func removeMark(text, lang string, rng *rand.Rand) (string, error) {
	if lang != "ar" && lang != "bn" && lang != "te" {
		return "", fmt.Errorf("attack: diacritic removal is defined for ar, bn, te, not %q: %w", lang, ErrNotApplicable)
	}
	rs := []rune(text)
	var pos []int
	for i, r := range rs {
		if IsRemovableMark(lang, r) {
			pos = append(pos, i)
		}
	}
	if len(pos) == 0 {
		return "", ErrNotApplicable
	}
	i := pos[rng.IntN(len(pos))]
	return string(append(rs[:i:i], rs[i+1:]...)), nil
}

type scriptClass int

const (
	scOther scriptClass = iota
	scHan
	scHiragana
	scKatakana
	scHangul
	scLatin
)

func classOf(r rune) scriptClass {
	switch {
	case unicode.Is(unicode.Han, r):
		return scHan
	case unicode.Is(unicode.Hiragana, r):
		return scHiragana
	case unicode.Is(unicode.Katakana, r) || r == 'ー':
		return scKatakana
	case unicode.Is(unicode.Hangul, r):
		return scHangul
	case unicode.Is(unicode.Latin, r) || unicode.IsDigit(r):
		return scLatin
	}
	return scOther
}

// segment changes spacing the way the script allows. Korean separates
// words with spaces: either two words are run together or a space is put
// inside a word (between syllables). Japanese uses no spaces: a space is
// put at a script boundary (kanji/kana/latin change) or, failing that,
// between two characters, and existing spaces are removed first.
func segment(text, lang string, rng *rand.Rand) (string, error) {
	rs := []rune(text)
	switch lang {
	case "ko":
		var spaces, inner []int
		for i, r := range rs {
			if r == ' ' && i > 0 && i+1 < len(rs) && rs[i-1] != ' ' && rs[i+1] != ' ' {
				spaces = append(spaces, i)
			}
			if i > 0 && classOf(r) == scHangul && classOf(rs[i-1]) == scHangul {
				inner = append(inner, i)
			}
		}
		if len(spaces) > 0 && (len(inner) == 0 || rng.IntN(2) == 0) {
			i := spaces[rng.IntN(len(spaces))]
			return string(append(rs[:i:i], rs[i+1:]...)), nil
		}
		if len(inner) == 0 {
			return "", ErrNotApplicable
		}
		i := inner[rng.IntN(len(inner))]
		return string(rs[:i]) + " " + string(rs[i:]), nil
	case "ja":
		if strings.ContainsRune(text, ' ') || strings.ContainsRune(text, '　') {
			return strings.NewReplacer(" ", "", "　", "").Replace(text), nil
		}
		var bounds, any []int
		for i := 1; i < len(rs); i++ {
			a, b := classOf(rs[i-1]), classOf(rs[i])
			if a == scOther || b == scOther {
				continue
			}
			any = append(any, i)
			if a != b {
				bounds = append(bounds, i)
			}
		}
		if len(bounds) == 0 {
			bounds = any
		}
		if len(bounds) == 0 {
			return "", ErrNotApplicable
		}
		i := bounds[rng.IntN(len(bounds))]
		return string(rs[:i]) + " " + string(rs[i:]), nil
	}
	return "", fmt.Errorf("attack: segmentation changes are defined for ja and ko, not %q: %w", lang, ErrNotApplicable)
}

// wordSwap swaps two adjacent words (Japanese: two adjacent script runs,
// since it has no spaces). Trailing punctuation such as "?" stays put.
func wordSwap(text, lang string, rng *rand.Rand) (string, error) {
	var words []string
	if lang == "ja" && !strings.ContainsRune(text, ' ') {
		rs := []rune(text)
		start := 0
		for i := 1; i <= len(rs); i++ {
			if i == len(rs) || classOf(rs[i]) != classOf(rs[i-1]) {
				words = append(words, string(rs[start:i]))
				start = i
			}
		}
	} else {
		words = strings.Fields(text)
	}
	var cand []int
	for i := 0; i+1 < len(words); i++ {
		if words[i] != words[i+1] && hasLetter(words[i]) && hasLetter(words[i+1]) {
			cand = append(cand, i)
		}
	}
	if len(cand) == 0 {
		return "", ErrNotApplicable
	}
	i := cand[rng.IntN(len(cand))]
	// Keep sentence-final punctuation at the end of the query.
	a, b := words[i], words[i+1]
	tail := strings.TrimRightFunc(b, func(r rune) bool { return unicode.IsPunct(r) })
	punct := b[len(tail):]
	if tail == "" {
		tail, punct = b, ""
	}
	words[i], words[i+1] = tail, a+punct
	sep := " "
	if lang == "ja" && !strings.ContainsRune(text, ' ') {
		sep = ""
	}
	return strings.Join(words, sep), nil
}

func hasLetter(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) {
			return true
		}
	}
	return false
}

// sortedTypes returns types sorted by AllTypes order (for stable output).
func sortedTypes(ts []Type) []Type {
	pos := map[Type]int{}
	for i, t := range AllTypes {
		pos[t] = i
	}
	out := append([]Type(nil), ts...)
	sort.SliceStable(out, func(i, j int) bool { return pos[out[i]] < pos[out[j]] })
	return out
}
