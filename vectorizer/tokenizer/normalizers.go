package tokenizer

import (
	"regexp"
	"regexp/syntax"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// normalizer rewrites a piece in place (through st's buffers).
type normalizer interface {
	normalize(p *piece, st *state)
}

// state is the per-call scratch space; pooled by the Tokenizer.
type state struct {
	a arena
	w rewriter
	// strs holds the texts of tokens that are not vocabulary entries.
	strs []string
	// seqA and seqB collect the model tokens of the first and second text.
	seqA, seqB []tok
	pre        []piece
	pre2       []piece
	vit        viterbi
	segs       []segment
	// np holds the piece being normalized: handing a normalizer the
	// address of a local would move that local to the heap on every call.
	np piece
	// bseg, bsegIn and bsegOut are BertNormalizer's NFD segment scratch.
	bseg            []bertChar
	bsegIn, bsegOut []byte
	// pieceBufs is a stack of piece buffers for sequencePre, nbuf of them
	// in use, so that nested sequences do not share one.
	pieceBufs [][]piece
	nbuf      int
}

func (st *state) reset() {
	st.a.reset()
	clear(st.strs) // drop references to the last call's texts
	st.strs = st.strs[:0]
	st.seqA, st.seqB = st.seqA[:0], st.seqB[:0]
	st.pre = st.pre[:0]
	st.pre2 = st.pre2[:0]
	st.segs = st.segs[:0]
	st.nbuf = 0
}

// addStr records a token text and returns its tok.str reference.
func (st *state) addStr(s string) int32 {
	st.strs = append(st.strs, s)
	return int32(len(st.strs))
}

// takePieces borrows an empty piece buffer; givePieces returns it (LIFO),
// keeping its grown capacity for the next call.
func (st *state) takePieces() []piece {
	if st.nbuf == len(st.pieceBufs) {
		st.pieceBufs = append(st.pieceBufs, nil)
	}
	b := st.pieceBufs[st.nbuf][:0]
	st.nbuf++
	return b
}

func (st *state) givePieces(b []piece) {
	st.nbuf--
	st.pieceBufs[st.nbuf] = b[:0]
}

type sequenceNormalizer []normalizer

func (s sequenceNormalizer) normalize(p *piece, st *state) {
	for _, n := range s {
		n.normalize(p, st)
	}
}

type bertNormalizer struct {
	cleanText, chineseChars, stripAccents, lowercase bool
}

func (b bertNormalizer) normalize(p *piece, st *state) {
	b.normalizeFast(p, st)
}

// normalizeSteps runs the steps one after another over the whole text, as
// Hugging Face does: the reference that normalizeFast is tested against.
func (b bertNormalizer) normalizeSteps(p *piece, st *state) {
	if b.cleanText {
		cleanText(p, st)
	}
	if b.chineseChars {
		padChineseChars(p, st)
	}
	if b.stripAccents {
		stripAccents(p, st)
	}
	if b.lowercase {
		lowercase(p, st)
	}
}

// bertWhitespace is BERT's notion of whitespace: tab, newline and carriage
// return count although they are control characters.
func bertWhitespace(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' || unicode.IsSpace(r)
}

// isOther reports Unicode general category C (Cc, Cf, Cn, Co, Cs), which is
// what Hugging Face's is_other (from unicode_categories) covers.
func isOther(r rune) bool {
	if r < 0x80 {
		return r < 0x20 || r == 0x7f
	}
	if unicode.IsLetter(r) || unicode.IsMark(r) || unicode.IsNumber(r) {
		return false
	}
	if unicode.In(r, unicode.Cc, unicode.Cf, unicode.Co, unicode.Cs) {
		return true
	}
	// Unassigned code points (Cn) belong to no other category.
	return !unicode.In(r, unicode.P, unicode.S, unicode.Z)
}

func bertControl(r rune) bool {
	if r == '\t' || r == '\n' || r == '\r' {
		return false
	}
	return isOther(r)
}

func cleanText(p *piece, st *state) {
	needs := false
	for _, r := range bstr(p.s) {
		if r == 0 || r == utf8.RuneError || bertControl(r) || (r != ' ' && bertWhitespace(r)) {
			needs = true
			break
		}
	}
	if !needs {
		return
	}
	w := &st.w
	w.reset()
	for _, r := range bstr(p.s) {
		switch {
		case r == 0 || r == utf8.RuneError || bertControl(r):
			w.remove()
		case r != ' ' && bertWhitespace(r):
			w.emitRune(' ')
		default:
			w.keep(r)
		}
	}
	p.apply(w, &st.a)
}

func isChineseChar(r rune) bool {
	return (r >= 0x4E00 && r <= 0x9FFF) ||
		(r >= 0x3400 && r <= 0x4DBF) ||
		(r >= 0x20000 && r <= 0x2A6DF) ||
		(r >= 0x2A700 && r <= 0x2B73F) ||
		(r >= 0x2B740 && r <= 0x2B81F) ||
		(r >= 0x2B920 && r <= 0x2CEAF) ||
		(r >= 0xF900 && r <= 0xFAFF) ||
		(r >= 0x2F800 && r <= 0x2FA1F)
}

func padChineseChars(p *piece, st *state) {
	needs := false
	for _, r := range bstr(p.s) {
		if isChineseChar(r) {
			needs = true
			break
		}
	}
	if !needs {
		return
	}
	w := &st.w
	w.reset()
	var buf [8]byte
	for _, r := range bstr(p.s) {
		if isChineseChar(r) {
			buf[0] = ' '
			n := utf8.EncodeRune(buf[1:], r)
			buf[n+1] = ' '
			w.emit(1, string(buf[:n+2]))
		} else {
			w.keep(r)
		}
	}
	p.apply(w, &st.a)
}

func stripAccents(p *piece, st *state) {
	unicodeNormalize(p, st, norm.NFD)
	needs := false
	for _, r := range bstr(p.s) {
		if r >= 0x300 && unicode.Is(unicode.Mn, r) {
			needs = true
			break
		}
	}
	if !needs {
		return
	}
	w := &st.w
	w.reset()
	for _, r := range bstr(p.s) {
		if r >= 0x300 && unicode.Is(unicode.Mn, r) {
			w.remove()
		} else {
			w.keep(r)
		}
	}
	p.apply(w, &st.a)
}

type stripAccentsNormalizer struct{}

func (stripAccentsNormalizer) normalize(p *piece, st *state) { stripAccents(p, st) }

// lowerRune is Rust's char::to_lowercase for the one code point whose full
// lowercase mapping has two characters.
const dottedCapitalI = 'İ'

func lowercase(p *piece, st *state) {
	// Fast path: same-size mappings rewrite bytes in place and keep
	// alignments, which is what a change-0 transform would produce.
	inPlace := true
	for i := 0; i < len(p.s); {
		c := p.s[i]
		if c < utf8.RuneSelf {
			i++
			continue
		}
		r, sz := utf8.DecodeRune(p.s[i:])
		l := unicode.ToLower(r)
		if r == dottedCapitalI || (l != r && utf8.RuneLen(l) != sz) {
			inPlace = false
			break
		}
		i += sz
	}
	if inPlace {
		var dst []byte
		for i := 0; i < len(p.s); {
			c := p.s[i]
			if c < utf8.RuneSelf {
				if c >= 'A' && c <= 'Z' {
					if dst == nil {
						dst = st.a.bytes(len(p.s))[:len(p.s)]
						copy(dst, p.s)
					}
					dst[i] = c + 32
				}
				i++
				continue
			}
			r, sz := utf8.DecodeRune(p.s[i:])
			if l := unicode.ToLower(r); l != r {
				if dst == nil {
					dst = st.a.bytes(len(p.s))[:len(p.s)]
					copy(dst, p.s)
				}
				utf8.EncodeRune(dst[i:], l)
			}
			i += sz
		}
		if dst != nil {
			p.s = dst
		}
		return
	}
	w := &st.w
	w.reset()
	for _, r := range bstr(p.s) {
		switch l := unicode.ToLower(r); {
		case r == dottedCapitalI:
			w.emit(1, "i\u0307")
		case l != r:
			w.emitRune(l)
		default:
			w.keep(r)
		}
	}
	p.apply(w, &st.a)
}

type lowercaseNormalizer struct{}

func (lowercaseNormalizer) normalize(p *piece, st *state) { lowercase(p, st) }

type unicodeNormalizer struct{ form norm.Form }

func (u unicodeNormalizer) normalize(p *piece, st *state) { unicodeNormalize(p, st, u.form) }

// unicodeNormalize applies a Unicode normalization form segment by segment
// (a segment starts at a character that never interacts with what precedes
// it), so each output segment aligns with the input segment it came from.
// Single-character segments of the decomposing forms take a table lookup
// instead of a normalization call.
func unicodeNormalize(p *piece, st *state, f norm.Form) {
	s := p.s
	if f.QuickSpan(s) == len(s) {
		return
	}
	decomposing := f == norm.NFD || f == norm.NFKD
	w := &st.w
	w.reset()
	var out []byte
	for i := 0; i < len(s); {
		if s[i] < utf8.RuneSelf && (i+1 == len(s) || s[i+1] < utf8.RuneSelf) {
			w.keep(rune(s[i]))
			i++
			continue
		}
		r, rsz := utf8.DecodeRune(s[i:])
		j := i + rsz
		for j < len(s) && s[j] >= utf8.RuneSelf && !f.Properties(s[j:]).BoundaryBefore() {
			_, sz := utf8.DecodeRune(s[j:])
			j += sz
		}
		if decomposing && j == i+rsz {
			if r >= 0xAC00 && r <= 0xD7A3 {
				var b [9]byte
				w.emitBytes(1, hangulDecompose(r, &b))
			} else if d := f.Properties(s[i:]).Decomposition(); d != nil {
				w.emitBytes(1, d)
			} else {
				w.keep(r)
			}
			i = j
			continue
		}
		seg := s[i:j]
		if f.IsNormal(seg) {
			for _, r := range bstr(seg) {
				w.keep(r)
			}
		} else {
			out = f.Append(out[:0], seg...)
			w.emitBytes(utf8.RuneCount(seg), out)
		}
		i = j
	}
	p.apply(w, &st.a)
}

// hangulDecompose is the algorithmic canonical decomposition of a Hangul
// syllable into conjoining jamo.
func hangulDecompose(r rune, b *[9]byte) []byte {
	const sBase, lBase, vBase, tBase, vCount, tCount = 0xAC00, 0x1100, 0x1161, 0x11A7, 21, 28
	si := r - sBase
	l, v, t := lBase+si/(vCount*tCount), vBase+(si%(vCount*tCount))/tCount, tBase+si%tCount
	n := utf8.EncodeRune(b[:], l)
	n += utf8.EncodeRune(b[n:], v)
	if t != tBase {
		n += utf8.EncodeRune(b[n:], t)
	}
	return b[:n]
}

type stripNormalizer struct{ left, right bool }

func (s stripNormalizer) normalize(p *piece, st *state) { stripSpaces(p, st, s.left, s.right) }

func stripSpaces(p *piece, st *state, left, right bool) {
	str := bstr(p.s)
	lead, trail := 0, 0
	if left {
		t := strings.TrimLeftFunc(str, unicode.IsSpace)
		lead = len(str) - len(t)
	}
	if right {
		t := strings.TrimRightFunc(str[lead:], unicode.IsSpace)
		trail = len(str) - lead - len(t)
	}
	if lead == 0 && trail == 0 {
		return
	}
	w := &st.w
	w.reset()
	for i, r := range str {
		if i < lead || i >= len(str)-trail {
			w.remove()
		} else {
			w.keep(r)
		}
	}
	p.apply(w, &st.a)
}

type prependNormalizer struct{ prefix string }

func (n prependNormalizer) normalize(p *piece, st *state) {
	if len(p.s) == 0 {
		return
	}
	prependTo(p, st, n.prefix)
}

// prependTo inserts s before the first character; all of it takes the
// alignment of that character, as in Hugging Face's prepend.
func prependTo(p *piece, st *state, s string) {
	w := &st.w
	w.reset()
	first := true
	for _, r := range s {
		if first {
			w.emitRune(r)
			first = false
		} else {
			w.insert(r)
		}
	}
	for i, r := range bstr(p.s) {
		if i == 0 {
			w.insert(r)
		} else {
			w.keep(r)
		}
	}
	p.apply(w, &st.a)
}

// replaceNormalizer is Hugging Face's Replace: a literal string or a regular
// expression, each match replaced by content.
type replaceNormalizer struct {
	literal string
	re      *regexp.Regexp
	run     charRun
	content string
}

// charRun matches runs of at least min copies of one ASCII byte: the shape
// of the " {2,}" pattern every SentencePiece conversion uses, found here
// without the regexp engine.
type charRun struct {
	c   byte
	min int
}

func runPattern(re *regexp.Regexp) charRun {
	t, err := syntax.Parse(re.String(), syntax.Perl)
	if err != nil {
		return charRun{}
	}
	t = t.Simplify()
	if t.Op == syntax.OpConcat && len(t.Sub) >= 2 {
		// Simplify turns x{2,} into xx+.
		n := 0
		var c rune = -1
		for k, sub := range t.Sub {
			switch {
			case sub.Op == syntax.OpLiteral && len(sub.Rune) >= 1 && sub.Flags&syntax.FoldCase == 0 && k < len(t.Sub)-1:
				for _, r := range sub.Rune {
					if c >= 0 && r != c {
						return charRun{}
					}
					c = r
					n++
				}
			case sub.Op == syntax.OpPlus && k == len(t.Sub)-1 && len(sub.Sub) == 1 && sub.Sub[0].Op == syntax.OpLiteral &&
				len(sub.Sub[0].Rune) == 1 && sub.Sub[0].Rune[0] == c && sub.Sub[0].Flags&syntax.FoldCase == 0:
				n++
			default:
				return charRun{}
			}
		}
		if c >= 0 && c < utf8.RuneSelf {
			return charRun{byte(c), n}
		}
	}
	return charRun{}
}

func (cr charRun) find(s []byte, dst [][2]int) [][2]int {
	for i := 0; i < len(s); {
		if s[i] != cr.c {
			i++
			continue
		}
		j := i
		for j < len(s) && s[j] == cr.c {
			j++
		}
		if j-i >= cr.min {
			dst = append(dst, [2]int{i, j})
		}
		i = j
	}
	return dst
}

func (n replaceNormalizer) normalize(p *piece, st *state) { n.apply(p, st) }

func (n replaceNormalizer) matches(s []byte, dst [][2]int) [][2]int {
	if n.run.min > 0 {
		return n.run.find(s, dst)
	}
	if n.re != nil {
		for _, m := range n.re.FindAllIndex(s, -1) {
			if m[1] > m[0] {
				dst = append(dst, [2]int{m[0], m[1]})
			}
		}
		return dst
	}
	if n.literal == "" {
		return dst
	}
	str := bstr(s)
	for i := 0; i < len(str); {
		k := strings.Index(str[i:], n.literal)
		if k < 0 {
			break
		}
		dst = append(dst, [2]int{i + k, i + k + len(n.literal)})
		i += k + len(n.literal)
	}
	return dst
}

func (n replaceNormalizer) apply(p *piece, st *state) {
	if n.re == nil && !strings.Contains(bstr(p.s), n.literal) {
		return
	}
	var mbuf [16][2]int
	ms := n.matches(p.s, mbuf[:0])
	if len(ms) == 0 {
		return
	}
	w := &st.w
	w.reset()
	w.changed = true
	str := bstr(p.s)
	pos := 0
	for _, m := range ms {
		for _, r := range str[pos:m[0]] {
			w.keep(r)
		}
		// The whole match is removed and the content inserted after it, so
		// the content takes the alignment of the match's last character.
		w.drop(utf8.RuneCountInString(str[m[0]:m[1]]))
		for _, r := range n.content {
			w.insert(r)
		}
		pos = m[1]
	}
	for _, r := range str[pos:] {
		w.keep(r)
	}
	p.apply(w, &st.a)
}
