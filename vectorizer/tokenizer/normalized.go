package tokenizer

import (
	"unicode/utf8"
	"unsafe"
)

// span is a byte range [start, end) in the original input.
type span struct{ start, end int32 }

// piece is a normalized string together with, for every normalized byte, the
// original byte range it came from. It mirrors Hugging Face's
// NormalizedString so that offsets survive normalizers that change lengths.
// Sub-pieces share the backing arrays of their parent; a piece is only
// copied when a normalizer or pre-tokenizer rewrites it.
type piece struct {
	s     []byte
	align []span
	// base is the original offset used for characters inserted before the
	// first character (Hugging Face aligns them to the start of the piece).
	base int32
}

// rc is one destination character of a transform. It either replaces the
// next original character or, when insert is set, is a new character; drop
// original characters are then skipped. This is Hugging Face's change
// semantics (0 / +1 / -n) with removal after an insertion made explicit.
type rc struct {
	r      rune
	insert bool
	// merge widens the alignment over the dropped characters: set when a
	// group of characters is rewritten (NFC composition, charsmap entries)
	// so that the result covers all of them, not only the first.
	merge bool
	drop  int32
}

// rewriter collects the destination of a transform one original character
// (or group of characters) at a time.
type rewriter struct {
	dest        []rc
	initRemoved int
	changed     bool
}

func (w *rewriter) reset() {
	w.dest = w.dest[:0]
	w.initRemoved = 0
	w.changed = false
}

// keep passes one original character through unchanged.
func (w *rewriter) keep(r rune) { w.dest = append(w.dest, rc{r: r}) }

// emit replaces oldChars original characters by repl.
func (w *rewriter) emit(oldChars int, repl string) {
	w.changed = true
	n := 0
	for _, r := range repl {
		w.dest = append(w.dest, rc{r: r, insert: n >= oldChars})
		n++
	}
	if n < oldChars {
		w.drop(oldChars - n)
		if n > 0 {
			w.dest[len(w.dest)-1].merge = true
		}
	}
}

// emitBytes is emit for a replacement held as bytes.
func (w *rewriter) emitBytes(oldChars int, repl []byte) {
	w.changed = true
	n := 0
	for i := 0; i < len(repl); {
		r, sz := utf8.DecodeRune(repl[i:])
		w.dest = append(w.dest, rc{r: r, insert: n >= oldChars})
		n++
		i += sz
	}
	if n < oldChars {
		w.drop(oldChars - n)
		if n > 0 {
			w.dest[len(w.dest)-1].merge = true
		}
	}
}

// drop removes the next n original characters.
func (w *rewriter) drop(n int) {
	w.changed = true
	if len(w.dest) == 0 {
		w.initRemoved += n
		return
	}
	w.dest[len(w.dest)-1].drop += int32(n)
}

// emitRune replaces one original character by one rune.
func (w *rewriter) emitRune(r rune) {
	w.changed = true
	w.dest = append(w.dest, rc{r: r})
}

// remove drops one original character.
func (w *rewriter) remove() { w.drop(1) }

// insert adds a character after the ones emitted so far.
func (w *rewriter) insert(r rune) {
	w.changed = true
	w.dest = append(w.dest, rc{r: r, insert: true})
}

// apply rewrites p from w, following Hugging Face's transform_range so that
// every new character inherits the alignment of the character it replaces,
// and inserted characters that of the character before them.
func (p *piece) apply(w *rewriter, a *arena) {
	if !w.changed {
		return
	}
	need := 0
	for _, d := range w.dest {
		if l := utf8.RuneLen(d.r); l > 0 {
			need += l
		} else {
			need += 3
		}
	}
	ns := a.bytes(need)
	na := a.spans(need)
	offset := 0
	skip := func(n int) {
		for k := 0; k < n && offset < len(p.s); k++ {
			offset += runeLen(p.s[offset:])
		}
	}
	skip(w.initRemoved)
	var buf [utf8.UTFMax]byte
	for _, d := range w.dest {
		var al span
		if d.insert {
			if offset < 1 || len(p.align) == 0 {
				al = span{p.base, p.base}
			} else {
				al = p.align[min(offset, len(p.align))-1]
			}
		} else {
			switch {
			case offset < len(p.align):
				al = p.align[offset]
			case len(p.align) > 0:
				al = p.align[len(p.align)-1]
			default:
				al = span{p.base, p.base}
			}
			skip(1)
		}
		skip(int(d.drop))
		if d.merge && offset > 0 && offset <= len(p.align) {
			al.end = max(al.end, p.align[offset-1].end)
		}
		n := utf8.EncodeRune(buf[:], d.r)
		ns = append(ns, buf[:n]...)
		for k := 0; k < n; k++ {
			na = append(na, al)
		}
	}
	p.s, p.align = ns, na
}

// sub returns the piece restricted to normalized bytes [i, j).
func (p *piece) sub(i, j int) piece {
	q := piece{s: p.s[i:j:j], align: p.align[i:j:j], base: p.base}
	if i < len(p.align) {
		q.base = p.align[i].start
	} else if len(p.align) > 0 {
		q.base = p.align[len(p.align)-1].end
	}
	return q
}

// origin maps normalized bytes [i, j) of p to the original range.
func (p *piece) origin(i, j int) (int, int) {
	if i >= j || i >= len(p.align) {
		if i < len(p.align) {
			return int(p.align[i].start), int(p.align[i].start)
		}
		if len(p.align) > 0 {
			e := int(p.align[len(p.align)-1].end)
			return e, e
		}
		return int(p.base), int(p.base)
	}
	return int(p.align[i].start), int(p.align[j-1].end)
}

// arena hands out reusable buffers for one encode call so that the steady
// state of Encode allocates only its result.
type arena struct {
	b  []byte
	sp []span
}

func (a *arena) reset() {
	a.b = a.b[:0]
	a.sp = a.sp[:0]
}

// bytes returns an empty slice with room for n bytes that stays valid until
// reset. When the arena is full a fresh block is started; old blocks remain
// referenced by the pieces that use them.
func (a *arena) bytes(n int) []byte {
	if cap(a.b)-len(a.b) < n {
		a.b = make([]byte, 0, max(2*cap(a.b), n, 4096))
	}
	s := a.b[len(a.b):len(a.b):cap(a.b)]
	a.b = a.b[:len(a.b)+n]
	return s[:0:n]
}

func (a *arena) spans(n int) []span {
	if cap(a.sp)-len(a.sp) < n {
		a.sp = make([]span, 0, max(2*cap(a.sp), n, 4096))
	}
	s := a.sp[len(a.sp):len(a.sp):cap(a.sp)]
	a.sp = a.sp[:len(a.sp)+n]
	return s[:0:n]
}

// newPiece builds the initial piece for text (valid UTF-8 after lossy
// replacement), where orig maps each byte of text to its original range.
func newPiece(text []byte, off int, a *arena) piece {
	al := a.spans(len(text))
	for i := 0; i < len(text); {
		if c := text[i]; c < utf8.RuneSelf {
			al = append(al, span{int32(off + i), int32(off + i + 1)})
			i++
			continue
		}
		sz := runeLen(text[i:])
		sp := span{int32(off + i), int32(off + i + sz)}
		for k := 0; k < sz; k++ {
			al = append(al, sp)
		}
		i += sz
	}
	return piece{s: text, align: al, base: int32(off)}
}

// lossyUTF8 replaces every maximal invalid subsequence of s by U+FFFD, the
// way Rust's String::from_utf8_lossy does, and returns the mapping of each
// output byte to its input range. Valid input is returned as is.
func lossyUTF8(s string, a *arena) (piece, bool) {
	if utf8.ValidString(s) {
		// The text is only read, never written, so it can alias s.
		return newPiece(unsafe.Slice(unsafe.StringData(s), len(s)), 0, a), true
	}
	out := a.bytes(len(s) + 3*len(s))
	al := a.spans(len(s) + 3*len(s))
	for i := 0; i < len(s); {
		r, sz := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && sz <= 1 {
			n := maximalSubpart(s[i:])
			out = append(out, "\uFFFD"...)
			for k := 0; k < 3; k++ {
				al = append(al, span{int32(i), int32(i + n)})
			}
			i += n
			continue
		}
		out = append(out, s[i:i+sz]...)
		for k := 0; k < sz; k++ {
			al = append(al, span{int32(i), int32(i + sz)})
		}
		i += sz
	}
	return piece{s: out, align: al}, false
}

// maximalSubpart returns the length of the maximal prefix of s (which starts
// with an invalid sequence) that could begin a well-formed UTF-8 sequence,
// at least 1 (Unicode's "maximal subpart" rule used by from_utf8_lossy).
func maximalSubpart(s string) int {
	b0 := s[0]
	var need int
	lo, hi := byte(0x80), byte(0xBF)
	switch {
	case b0 >= 0xC2 && b0 <= 0xDF:
		need = 1
	case b0 == 0xE0:
		need, lo = 2, 0xA0
	case b0 >= 0xE1 && b0 <= 0xEC, b0 == 0xEE, b0 == 0xEF:
		need = 2
	case b0 == 0xED:
		need, hi = 2, 0x9F
	case b0 == 0xF0:
		need, lo = 3, 0x90
	case b0 >= 0xF1 && b0 <= 0xF3:
		need = 3
	case b0 == 0xF4:
		need, hi = 3, 0x8F
	default:
		return 1
	}
	n := 1
	for k := 0; k < need && n < len(s); k++ {
		c := s[n]
		if k == 0 {
			if c < lo || c > hi {
				return n
			}
		} else if c < 0x80 || c > 0xBF {
			return n
		}
		n++
	}
	return n
}
