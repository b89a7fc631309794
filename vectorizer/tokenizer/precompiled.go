package tokenizer

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unicode/utf8"
)

// charsmap is SentencePiece's precompiled normalization map: a Darts
// double-array trie over UTF-8 input whose values index NUL-terminated
// replacement strings.
type charsmap struct {
	array []uint32
	norm  []byte
}

func parseCharsmap(b []byte) (*charsmap, error) {
	if len(b) == 0 {
		return nil, nil
	}
	if len(b) < 4 {
		return nil, errors.New("precompiled charsmap shorter than its 4-byte header")
	}
	n := int(binary.LittleEndian.Uint32(b))
	if n%4 != 0 || n > len(b)-4 {
		return nil, fmt.Errorf("precompiled charsmap: trie size %d does not fit in %d bytes", n, len(b)-4)
	}
	cm := &charsmap{array: make([]uint32, n/4), norm: b[4+n:]}
	for i := range cm.array {
		cm.array[i] = binary.LittleEndian.Uint32(b[4+4*i:])
	}
	if len(cm.array) == 0 {
		return nil, errors.New("precompiled charsmap: empty trie")
	}
	return cm, nil
}

func dOffset(u uint32) uint32 { return (u >> 10) << ((u & (1 << 9)) >> 6) }
func dLabel(u uint32) uint32  { return u & ((1 << 31) | 0xFF) }
func dHasLeaf(u uint32) bool  { return (u>>8)&1 == 1 }
func dValue(u uint32) uint32  { return u & ((1 << 31) - 1) }

func (c *charsmap) replacement(v uint32) ([]byte, bool) {
	if int(v) >= len(c.norm) {
		return nil, false
	}
	e := int(v)
	for e < len(c.norm) && c.norm[e] != 0 {
		e++
	}
	return c.norm[v:e], true
}

// longest returns the replacement and length of the longest key that
// prefixes s (what SentencePiece's own normalizer uses). It runs once per
// input character, so the walk is written out rather than taking a
// callback.
func (c *charsmap) longest(s []byte) ([]byte, int) {
	var out []byte
	n := 0
	arr := c.array
	pos := dOffset(arr[0])
	for i, b := range s {
		if b == 0 {
			break
		}
		pos ^= uint32(b)
		if int(pos) >= len(arr) {
			break
		}
		u := arr[pos]
		if dLabel(u) != uint32(b) {
			break
		}
		pos ^= dOffset(u)
		if dHasLeaf(u) {
			if int(pos) >= len(arr) {
				break
			}
			if r, ok := c.replacement(dValue(arr[pos])); ok {
				out, n = r, i+1
			}
		}
	}
	return out, n
}

// precompiledNormalizer is Hugging Face's Precompiled. It rewrites the text
// the way SentencePiece's own normalizer does: at each position the longest
// key of the charsmap wins, even across grapheme boundaries. Hugging Face's
// Rust version looks up grapheme clusters and takes the shortest matching
// prefix, which drops marks ("a\u0308\u0304" becomes "ä") and leaves
// conjoining Hangul jamo unnormalized; following the C++ reference instead
// is what keeps tokenizer.json conversions of spm models at parity with
// spm_encode (TestConvertedMatchesSentencePiece).
type precompiledNormalizer struct{ cm *charsmap }

func (n precompiledNormalizer) normalize(p *piece, st *state) {
	if n.cm == nil || len(p.s) == 0 {
		return
	}
	s := p.s
	// Most text has no character in the map: find the first one before
	// starting a rewrite.
	i := 0
	for i < len(s) {
		if _, l := n.cm.longest(s[i:]); l > 0 {
			break
		}
		i += runeLen(s[i:])
	}
	if i == len(s) {
		return
	}
	w := &st.w
	w.reset()
	for k := 0; k < i; {
		r, sz := utf8.DecodeRune(s[k:])
		w.keep(r)
		k += sz
	}
	for i < len(s) {
		if rep, l := n.cm.longest(s[i:]); l > 0 {
			w.emitBytes(utf8.RuneCount(s[i:i+l]), rep)
			i += l
			continue
		}
		r, sz := utf8.DecodeRune(s[i:])
		w.keep(r)
		i += sz
	}
	p.apply(w, &st.a)
}
