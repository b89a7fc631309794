package tokenizer

import (
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Per-character properties used by BertNormalizer and BertPreTokenizer,
// looked up in one table for the BMP instead of searching Unicode's range
// tables (and x/text's tries) several times per character.
const (
	bfRemove  uint16 = 1 << iota // clean_text drops it: NUL, U+FFFD, controls but \t\n\r
	bfSpace                      // clean_text turns it into ' ': whitespace other than ' '
	bfChinese                    // handle_chinese_chars pads it with spaces
	bfMn                         // a nonspacing mark, dropped by strip_accents after NFD
	bfLower                      // lowercasing changes it
	bfDecomp                     // NFD changes it (a decomposition or a Hangul syllable)
	bfJoin                       // NFD: no boundary before it (ccc != 0 or combines backward)
	bfCCC                        // canonical combining class != 0
	bfWS                         // unicode.IsSpace: BertPreTokenizer splits on it
	bfPunct                      // BertPreTokenizer isolates it
)

func bertFlagsOf(r rune) uint16 {
	var f uint16
	if r == 0 || r == utf8.RuneError || bertControl(r) {
		f |= bfRemove
	}
	if r != ' ' && bertWhitespace(r) {
		f |= bfSpace
	}
	if isChineseChar(r) {
		f |= bfChinese
	}
	if r >= 0x300 && unicode.Is(unicode.Mn, r) {
		f |= bfMn
	}
	if r == dottedCapitalI || unicode.ToLower(r) != r {
		f |= bfLower
	}
	var b [utf8.UTFMax]byte
	n := utf8.EncodeRune(b[:], r)
	prop := norm.NFD.Properties(b[:n])
	if (r >= 0xAC00 && r <= 0xD7A3) || prop.Decomposition() != nil {
		f |= bfDecomp
	}
	if r >= utf8.RuneSelf && !prop.BoundaryBefore() {
		f |= bfJoin
	}
	if prop.CCC() != 0 {
		f |= bfCCC
	}
	if unicode.IsSpace(r) {
		f |= bfWS
	}
	if isBertPunct(r) {
		f |= bfPunct
	}
	return f
}

// bertTable holds bertFlagsOf for every BMP code point. It is computed on
// first use (a few milliseconds) and never written afterwards.
var bertTable = sync.OnceValue(func() *[0x10000]uint16 {
	t := new([0x10000]uint16)
	for r := range t {
		if r >= 0xD800 && r <= 0xDFFF {
			// Surrogates never occur in valid UTF-8; decoding gives U+FFFD.
			t[r] = bertFlagsOf(utf8.RuneError)
			continue
		}
		t[r] = bertFlagsOf(rune(r))
	}
	return t
})

func bertFlags(t *[0x10000]uint16, r rune) uint16 {
	if r < 0x10000 {
		return t[r]
	}
	return bertFlagsOf(r)
}

// normalizeFast is the BertNormalizer in one pass over the characters,
// equal to normalizeSteps. Each step maps one character to zero or more
// characters that all take its alignment, so the steps compose character
// by character, except NFD on a segment of combining characters, which
// flushSegment handles as a whole. With no character to change it leaves p
// alone.
func (b bertNormalizer) normalizeFast(p *piece, st *state) {
	t := bertTable()
	s := p.s
	var mask uint16
	if b.cleanText {
		mask |= bfRemove | bfSpace
	}
	if b.chineseChars {
		mask |= bfChinese
	}
	if b.stripAccents {
		mask |= bfMn | bfDecomp
	}
	if b.lowercase {
		mask |= bfLower
	}
	// Find the first character any step changes. NFD also changes text
	// where two combining characters are out of order; those are nearly
	// all nonspacing marks (in the mask), the rest is caught by bfCCC.
	first := -1
	for i := 0; i < len(s); {
		c := s[i]
		var f uint16
		sz := 1
		if c < utf8.RuneSelf {
			f = t[c]
		} else {
			var r rune
			r, sz = utf8.DecodeRune(s[i:])
			f = bertFlags(t, r)
		}
		if f&mask != 0 || (b.stripAccents && f&(bfCCC|bfMn) == bfCCC) {
			first = i
			break
		}
		i += sz
	}
	if first < 0 {
		return
	}
	if b.stripAccents {
		// Start at the beginning of the NFD segment (a character and the
		// joiners after it) that holds the first change.
		for first > 0 && s[first] >= utf8.RuneSelf {
			r, _ := utf8.DecodeRune(s[first:])
			if bertFlags(t, r)&bfJoin == 0 {
				break
			}
			_, sz := utf8.DecodeLastRune(s[:first])
			first -= sz
		}
	}
	n := 3*len(s) + 16
	out, al := st.a.bytes(n), st.a.spans(n)
	out = append(out, s[:first]...)
	al = append(al, p.align[:first]...)
	seg := st.bseg[:0]
	for i := first; i < len(s); {
		c := s[i]
		sp := p.align[i]
		r, sz := rune(c), 1
		if c >= utf8.RuneSelf {
			r, sz = utf8.DecodeRune(s[i:])
		}
		i += sz
		f := bertFlags(t, r)
		if b.cleanText {
			if f&bfRemove != 0 {
				continue
			}
			if f&bfSpace != 0 {
				r, f = ' ', t[' ']
			}
		}
		if !b.stripAccents {
			if b.chineseChars && f&bfChinese != 0 {
				out, al = append(out, ' '), append(al, sp)
				out, al = b.appendLower(out, al, r, f, sp)
				out, al = append(out, ' '), append(al, sp)
				continue
			}
			out, al = b.appendLower(out, al, r, f, sp)
			continue
		}
		// NFD works on segments, a character and the joiners after it:
		// collect one, then flush it.
		if b.chineseChars && f&bfChinese != 0 {
			out, al = b.flushSegment(t, out, al, seg, st)
			out, al = b.flushSegment(t, out, al, append(seg[:0], bertChar{' ', t[' '], sp}), st)
			out, al = b.flushSegment(t, out, al, append(seg[:0], bertChar{r, f, sp}), st)
			seg = append(seg[:0], bertChar{' ', t[' '], sp})
			continue
		}
		if f&bfJoin == 0 {
			out, al = b.flushSegment(t, out, al, seg, st)
			seg = seg[:0]
		}
		seg = append(seg, bertChar{r, f, sp})
	}
	out, al = b.flushSegment(t, out, al, seg, st)
	st.bseg = seg[:0]
	p.s, p.align = out, al
}

// bertChar is one character after clean_text with its flags and the span
// of the original character it came from.
type bertChar struct {
	r  rune
	f  uint16
	sp span
}

// flushSegment appends an NFD segment after NFD, strip_accents and
// lowercase. Characters that decompose alone map one by one, every output
// character aligned to its source; a segment that NFD rewrites as a whole
// (reordering marks) is aligned position by position, the way the rewriter
// aligns a group replacement.
func (b bertNormalizer) flushSegment(t *[0x10000]uint16, out []byte, al []span, seg []bertChar, st *state) ([]byte, []span) {
	normal := true
	if len(seg) > 1 {
		ccc := 0
		for _, c := range seg {
			if c.f&bfDecomp != 0 {
				normal = false
				break
			}
			if c.f&bfCCC != 0 {
				if ccc++; ccc > 1 {
					normal = false
					break
				}
			}
		}
	}
	if normal {
		for _, c := range seg {
			if c.f&bfDecomp == 0 {
				if c.f&bfMn == 0 {
					out, al = b.appendLower(out, al, c.r, c.f, c.sp)
				}
				continue
			}
			var buf [9]byte
			var d []byte
			if c.r >= 0xAC00 && c.r <= 0xD7A3 {
				d = hangulDecompose(c.r, &buf)
			} else {
				n := utf8.EncodeRune(buf[:], c.r)
				d = norm.NFD.Properties(buf[:n]).Decomposition()
			}
			for _, dr := range bstr(d) {
				if df := bertFlags(t, dr); df&bfMn == 0 {
					out, al = b.appendLower(out, al, dr, df, c.sp)
				}
			}
		}
		return out, al
	}
	in := st.bsegIn[:0]
	for _, c := range seg {
		in = utf8.AppendRune(in, c.r)
	}
	nfd := norm.NFD.Append(st.bsegOut[:0], in...)
	st.bsegIn, st.bsegOut = in, nfd
	k := 0
	for _, dr := range bstr(nfd) {
		sp := seg[min(k, len(seg)-1)].sp
		k++
		if df := bertFlags(t, dr); df&bfMn == 0 {
			out, al = b.appendLower(out, al, dr, df, sp)
		}
	}
	return out, al
}

// appendLower appends r, lowercased when the normalizer lowercases, with
// every byte aligned to sp.
func (b bertNormalizer) appendLower(out []byte, al []span, r rune, f uint16, sp span) ([]byte, []span) {
	if b.lowercase && f&bfLower != 0 {
		if r == dottedCapitalI {
			out = append(out, "i\u0307"...)
			return out, append(al, sp, sp, sp)
		}
		r = unicode.ToLower(r)
	}
	if r < utf8.RuneSelf {
		return append(out, byte(r)), append(al, sp)
	}
	out = utf8.AppendRune(out, r)
	for range utf8.RuneLen(r) {
		al = append(al, sp)
	}
	return out, al
}
