package tokenizer

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// preTokenizer splits every piece of in and appends the results to out.
type preTokenizer interface {
	preTokenize(in, out []piece, st *state) []piece
}

type splitBehavior int

const (
	behRemoved splitBehavior = iota
	behIsolated
	behMergedWithPrevious
	behMergedWithNext
	behContiguous
)

// segment is a byte range of a piece and whether it matched the delimiter.
type segment struct {
	start, end int
	match      bool
}

// splitSegments applies Hugging Face's SplitDelimiterBehavior to the
// alternating segments of p and appends the non-empty resulting pieces.
func splitSegments(p *piece, segs []segment, beh splitBehavior, out []piece) []piece {
	push := func(s, e int) {
		if e > s {
			out = append(out, p.sub(s, e))
		}
	}
	switch beh {
	case behRemoved:
		for _, g := range segs {
			if !g.match {
				push(g.start, g.end)
			}
		}
	case behIsolated:
		for _, g := range segs {
			push(g.start, g.end)
		}
	case behContiguous:
		for i := 0; i < len(segs); {
			j := i + 1
			if segs[i].match {
				for j < len(segs) && segs[j].match {
					j++
				}
			}
			push(segs[i].start, segs[j-1].end)
			i = j
		}
	case behMergedWithPrevious:
		cs, ce := -1, -1
		prevMatch := false
		for _, g := range segs {
			if g.match && !prevMatch && cs >= 0 {
				ce = g.end
			} else {
				if cs >= 0 {
					push(cs, ce)
				}
				cs, ce = g.start, g.end
			}
			prevMatch = g.match
		}
		if cs >= 0 {
			push(cs, ce)
		}
	case behMergedWithNext:
		// Walk backwards: a delimiter is glued to the segment after it
		// unless that one is a delimiter too.
		start := len(out)
		cs, ce := -1, -1
		prevMatch := false
		for i := len(segs) - 1; i >= 0; i-- {
			g := segs[i]
			if g.match && !prevMatch && cs >= 0 {
				cs = g.start
			} else {
				if cs >= 0 {
					push(cs, ce)
				}
				cs, ce = g.start, g.end
			}
			prevMatch = g.match
		}
		if cs >= 0 {
			push(cs, ce)
		}
		for i, j := start, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	return out
}

// charSegments turns a per-character predicate into segments where every
// matching character is its own delimiter segment.
func charSegments(s []byte, isDelim func(rune) bool, segs []segment) []segment {
	last := 0
	for i := 0; i < len(s); {
		r, sz := utf8.DecodeRune(s[i:])
		if isDelim(r) {
			if last < i {
				segs = append(segs, segment{last, i, false})
			}
			segs = append(segs, segment{i, i + sz, true})
			last = i + sz
		}
		i += sz
	}
	if last < len(s) {
		segs = append(segs, segment{last, len(s), false})
	}
	return segs
}

func splitByChar(in, out []piece, st *state, isDelim func(rune) bool, beh splitBehavior) []piece {
	for i := range in {
		st.segs = charSegments(in[i].s, isDelim, st.segs[:0])
		out = splitSegments(&in[i], st.segs, beh, out)
	}
	return out
}

func isBertPunct(r rune) bool {
	if r < utf8.RuneSelf {
		return (r >= '!' && r <= '/') || (r >= ':' && r <= '@') || (r >= '[' && r <= '`') || (r >= '{' && r <= '~')
	}
	return unicode.IsPunct(r)
}

type bertPreTokenizer struct{}

func (bertPreTokenizer) preTokenize(in, out []piece, st *state) []piece {
	t := bertTable()
	for i := range in {
		p := &in[i]
		s := p.s
		start := -1
		for j := 0; j < len(s); {
			r, sz := rune(s[j]), 1
			if r >= utf8.RuneSelf {
				r, sz = utf8.DecodeRune(s[j:])
			}
			f := bertFlags(t, r)
			switch {
			case f&bfWS != 0:
				if start >= 0 {
					out = append(out, p.sub(start, j))
					start = -1
				}
			case f&bfPunct != 0:
				if start >= 0 {
					out = append(out, p.sub(start, j))
					start = -1
				}
				out = append(out, p.sub(j, j+sz))
			default:
				if start < 0 {
					start = j
				}
			}
			j += sz
		}
		if start >= 0 {
			out = append(out, p.sub(start, len(s)))
		}
	}
	return out
}

type whitespaceSplit struct{}

func (whitespaceSplit) preTokenize(in, out []piece, st *state) []piece {
	return splitByChar(in, out, st, unicode.IsSpace, behRemoved)
}

func isWordChar(r rune) bool {
	if r < utf8.RuneSelf {
		return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') || r == '_'
	}
	return unicode.IsLetter(r) || unicode.IsMark(r) || unicode.IsNumber(r) || unicode.Is(unicode.Pc, r)
}

// whitespacePre is Hugging Face's Whitespace: the matches of \w+|[^\w\s]+.
type whitespacePre struct{}

func (whitespacePre) preTokenize(in, out []piece, st *state) []piece {
	for i := range in {
		p := &in[i]
		s := p.s
		start, kind := -1, 0
		for j := 0; j < len(s); {
			r, sz := utf8.DecodeRune(s[j:])
			k := 2
			if unicode.IsSpace(r) {
				k = 0
			} else if isWordChar(r) {
				k = 1
			}
			if k != kind {
				if start >= 0 && kind != 0 {
					out = append(out, p.sub(start, j))
				}
				start, kind = j, k
			}
			j += sz
		}
		if start >= 0 && kind != 0 {
			out = append(out, p.sub(start, len(s)))
		}
	}
	return out
}

type punctuationPre struct{ beh splitBehavior }

func (pp punctuationPre) preTokenize(in, out []piece, st *state) []piece {
	return splitByChar(in, out, st, isBertPunct, pp.beh)
}

type digitsPre struct{ individual bool }

func (d digitsPre) preTokenize(in, out []piece, st *state) []piece {
	beh := behContiguous
	if d.individual {
		beh = behIsolated
	}
	return splitByChar(in, out, st, unicode.IsNumber, beh)
}

// splitPre is Hugging Face's Split with a literal or regex pattern.
type splitPre struct {
	re     *regexp.Regexp
	beh    splitBehavior
	invert bool
}

func (sp splitPre) preTokenize(in, out []piece, st *state) []piece {
	for i := range in {
		p := &in[i]
		segs := st.segs[:0]
		last := 0
		for _, m := range sp.re.FindAllIndex(p.s, -1) {
			if m[1] == m[0] {
				continue
			}
			if last < m[0] {
				segs = append(segs, segment{last, m[0], sp.invert})
			}
			segs = append(segs, segment{m[0], m[1], !sp.invert})
			last = m[1]
		}
		if last < len(p.s) {
			segs = append(segs, segment{last, len(p.s), sp.invert})
		}
		st.segs = segs
		out = splitSegments(p, segs, sp.beh, out)
	}
	return out
}

type prependScheme int

const (
	prependAlways prependScheme = iota
	prependFirst
	prependNever
)

type metaspacePre struct {
	replacement rune
	rep         string
	scheme      prependScheme
	split       bool
}

func (m metaspacePre) preTokenize(in, out []piece, st *state) []piece {
	for i := range in {
		p := in[i]
		if len(p.s) == 0 {
			continue
		}
		// Replace spaces and prepend in one copy. Every output byte takes the
		// span of the character it came from (a space, or for the prefix the
		// first character), which is what the rewriter's emitRune and
		// prependTo produce.
		spaces := strings.Count(bstr(p.s), " ")
		prepend := false
		if p.s[0] != ' ' {
			first, _ := utf8.DecodeRune(p.s)
			prepend = first != m.replacement &&
				(m.scheme == prependAlways || m.scheme == prependFirst && p.align[0].start == 0)
		}
		if spaces > 0 || prepend {
			n := len(p.s) + spaces*(len(m.rep)-1)
			if prepend {
				n += len(m.rep)
			}
			ns, na := st.a.bytes(n), st.a.spans(n)
			if prepend {
				ns = append(ns, m.rep...)
				for range len(m.rep) {
					na = append(na, p.align[0])
				}
			}
			for k, c := range p.s {
				if c != ' ' {
					ns, na = append(ns, c), append(na, p.align[k])
					continue
				}
				ns = append(ns, m.rep...)
				for range len(m.rep) {
					na = append(na, p.align[k])
				}
			}
			p.s, p.align = ns, na
		}
		if !m.split {
			out = append(out, p)
			continue
		}
		// Merged with next: every replacement character starts a piece.
		// UTF-8 is self-synchronizing, so a byte search finds exactly the
		// character matches.
		last := 0
		for k := 0; k < len(p.s); {
			j := strings.Index(bstr(p.s[k:]), m.rep)
			if j < 0 {
				break
			}
			if k+j > last {
				out = append(out, p.sub(last, k+j))
				last = k + j
			}
			k += j + len(m.rep)
		}
		out = append(out, p.sub(last, len(p.s)))
	}
	return out
}

func hasByte(s []byte, c byte) bool {
	for _, b := range s {
		if b == c {
			return true
		}
	}
	return false
}

type sequencePre []preTokenizer

func (s sequencePre) preTokenize(in, out []piece, st *state) []piece {
	if len(s) == 0 {
		return append(out, in...)
	}
	// Intermediate results alternate between two borrowed buffers; the
	// last step writes to out.
	bufs := [2][]piece{st.takePieces(), st.takePieces()}
	cur := in
	for k, p := range s[:len(s)-1] {
		b := p.preTokenize(cur, bufs[k%2][:0], st)
		bufs[k%2] = b
		cur = b
	}
	out = s[len(s)-1].preTokenize(cur, out, st)
	st.givePieces(bufs[1])
	st.givePieces(bufs[0])
	return out
}
