// Package tokenizer is a pure-Go implementation of the Hugging Face
// tokenizers pipeline (tokenizer.json) for WordPiece (BERT, mBERT) and
// Unigram/SentencePiece (XLM-R, mT5) models: normalizer, pre-tokenizer,
// model, post-processor, truncation, padding and decoder. SentencePiece
// .model files load into the same pipeline.
//
// A Tokenizer is immutable after loading and safe for concurrent use; the
// With* methods return modified copies.
package tokenizer

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
)

// Encoding is the result of encoding one sequence or pair. All slices have
// the same length. Offsets are byte offsets into the original input
// ([0,0] for added special tokens and padding).
type Encoding struct {
	IDs               []int
	TypeIDs           []int
	AttentionMask     []int
	SpecialTokensMask []int
	Tokens            []string
	Offsets           [][2]int
	// Truncated reports that tokens were dropped to honour the maximum
	// length.
	Truncated bool
}

// Len is the number of tokens, padding included.
func (e *Encoding) Len() int { return len(e.IDs) }

// TruncationStrategy selects what is cut from a pair.
type TruncationStrategy int

const (
	// LongestFirst removes tokens from the longer sequence first.
	LongestFirst TruncationStrategy = iota
	// OnlyFirst truncates only the first sequence.
	OnlyFirst
	// OnlySecond truncates only the second sequence.
	OnlySecond
)

// Truncation limits encodings to MaxLength tokens, special tokens included.
type Truncation struct {
	MaxLength int
	Strategy  TruncationStrategy
	// Left drops tokens from the start instead of the end.
	Left bool
}

// Padding pads encodings; with Length 0 a batch is padded to its longest
// member, otherwise every encoding is padded to Length.
type Padding struct {
	Length     int
	MultipleOf int
	Left       bool
	PadID      int
	PadTypeID  int
	PadToken   string
}

// addedToken is one entry of tokenizer.json's added_tokens.
type addedToken struct {
	id                               int32
	content                          string
	singleWord, lstrip, rstrip, norm bool
	special                          bool
	// noMatch keeps the token out of input matching (SentencePiece control
	// pieces are ids only).
	noMatch bool
}

// Tokenizer is a loaded tokenization pipeline.
type Tokenizer struct {
	normalizer normalizer
	pre        preTokenizer
	model      model
	post       *postProcessor
	decoder    decoder
	truncation *Truncation
	padding    *Padding

	added       []addedToken
	rawTrie     *byteTrie // non-normalized added tokens → index into added
	normTrie    *byteTrie // normalized added tokens, on normalized text
	addedByID   map[int32]int
	addedByText map[string]int32
	vocabIndex  map[string]int32
	specialIDs  map[int32]bool

	pool *sync.Pool
}

// LoadFile reads a tokenizer.json, or a SentencePiece .model (recognised by
// its content), from path.
func LoadFile(path string) (*Tokenizer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	var t *Tokenizer
	if looksLikeJSON(b) {
		t, err = loadJSON(b)
	} else {
		t, err = loadSentencePiece(b)
	}
	if err != nil {
		return nil, fmt.Errorf("tokenizer %s: %w", path, err)
	}
	return t, nil
}

// Load reads tokenizer.json bytes.
func Load(r io.Reader) (*Tokenizer, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	t, err := loadJSON(b)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	return t, nil
}

func looksLikeJSON(b []byte) bool {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '{':
			return true
		default:
			return false
		}
	}
	return false
}

// finish builds the lookup structures shared by every loader.
func (t *Tokenizer) finish() {
	v := t.model.vocab()
	t.vocabIndex = make(map[string]int32, len(v)+len(t.added))
	for i := len(v) - 1; i >= 0; i-- {
		t.vocabIndex[v[i]] = int32(i)
	}
	t.addedByID = make(map[int32]int, len(t.added))
	t.addedByText = make(map[string]int32, len(t.added))
	t.specialIDs = map[int32]bool{}
	var raw, nrm []trieKey
	for i, a := range t.added {
		t.addedByID[a.id] = i
		t.addedByText[a.content] = a.id
		if a.special {
			t.specialIDs[a.id] = true
		}
		if a.content == "" || a.noMatch {
			continue
		}
		if a.norm {
			st := &state{}
			p := newPiece([]byte(a.content), 0, &st.a)
			if t.normalizer != nil {
				t.normalizer.normalize(&p, st)
			}
			if len(p.s) > 0 {
				nrm = append(nrm, trieKey{string(p.s), int32(i)})
			}
		} else {
			raw = append(raw, trieKey{a.content, int32(i)})
		}
	}
	if len(raw) > 0 {
		t.rawTrie = buildTrie(raw)
	}
	if len(nrm) > 0 {
		t.normTrie = buildTrie(nrm)
	}
	t.pool = &sync.Pool{New: func() any { return &state{} }}
}

// WithTruncation returns a copy that truncates to maxLen tokens (special
// tokens included) with the longest-first strategy; maxLen <= 0 disables
// truncation.
func (t *Tokenizer) WithTruncation(maxLen int) *Tokenizer {
	if maxLen <= 0 {
		return t.WithTruncationConfig(nil)
	}
	return t.WithTruncationConfig(&Truncation{MaxLength: maxLen})
}

// WithTruncationConfig returns a copy with the given truncation (nil
// disables it).
func (t *Tokenizer) WithTruncationConfig(tr *Truncation) *Tokenizer {
	c := *t
	if tr != nil {
		cp := *tr
		tr = &cp
	}
	c.truncation = tr
	return &c
}

// WithPadding returns a copy with the given padding (nil disables it). An
// empty PadToken is filled in from PadID.
func (t *Tokenizer) WithPadding(p *Padding) *Tokenizer {
	c := *t
	if p != nil {
		cp := *p
		if cp.PadToken == "" {
			cp.PadToken, _ = t.IDToToken(cp.PadID)
		}
		p = &cp
	}
	c.padding = p
	return &c
}

// Truncation returns the active truncation, nil when disabled.
func (t *Tokenizer) Truncation() *Truncation {
	if t.truncation == nil {
		return nil
	}
	c := *t.truncation
	return &c
}

// Padding returns the active padding, nil when disabled.
func (t *Tokenizer) Padding() *Padding {
	if t.padding == nil {
		return nil
	}
	c := *t.padding
	return &c
}

// VocabSize counts the model vocabulary and added tokens outside it.
func (t *Tokenizer) VocabSize() int {
	n := len(t.model.vocab())
	for _, a := range t.added {
		if int(a.id) >= n {
			n = int(a.id) + 1
		}
	}
	return n
}

// TokenToID returns the id of a vocabulary entry or added token.
func (t *Tokenizer) TokenToID(s string) (int, bool) {
	if id, ok := t.addedByText[s]; ok {
		return int(id), true
	}
	id, ok := t.vocabIndex[s]
	return int(id), ok
}

// IDToToken returns the text of id.
func (t *Tokenizer) IDToToken(id int) (string, bool) {
	if i, ok := t.addedByID[int32(id)]; ok {
		return t.added[i].content, true
	}
	v := t.model.vocab()
	if id < 0 || id >= len(v) {
		return "", false
	}
	return v[id], true
}

// IsSpecial reports whether id is a special added token.
func (t *Tokenizer) IsSpecial(id int) bool { return t.specialIDs[int32(id)] }

// Encode tokenizes one text. With addSpecialTokens the post-processor's
// special tokens are added. Invalid UTF-8 is replaced by U+FFFD.
func (t *Tokenizer) Encode(text string, addSpecialTokens bool) *Encoding {
	st := t.pool.Get().(*state)
	defer t.pool.Put(st)
	st.reset()
	a := t.encodeSeq(text, st, st.seqA)
	st.seqA = a
	e := t.finishEncoding(a, nil, false, addSpecialTokens, st)
	if t.padding != nil {
		t.pad([]*Encoding{e})
	}
	return e
}

// EncodePair tokenizes a pair (for example query and passage).
func (t *Tokenizer) EncodePair(a, b string, addSpecialTokens bool) *Encoding {
	st := t.pool.Get().(*state)
	defer t.pool.Put(st)
	st.reset()
	ta := t.encodeSeq(a, st, st.seqA)
	st.seqA = ta
	tb := t.encodeSeq(b, st, st.seqB)
	st.seqB = tb
	e := t.finishEncoding(ta, tb, true, addSpecialTokens, st)
	if t.padding != nil {
		t.pad([]*Encoding{e})
	}
	return e
}

// EncodeBatch encodes texts and pads them together when padding is set.
func (t *Tokenizer) EncodeBatch(texts []string, addSpecialTokens bool) []*Encoding {
	out := make([]*Encoding, len(texts))
	st := t.pool.Get().(*state)
	defer t.pool.Put(st)
	for i, s := range texts {
		st.reset()
		a := t.encodeSeq(s, st, st.seqA)
		st.seqA = a
		out[i] = t.finishEncoding(a, nil, false, addSpecialTokens, st)
	}
	if t.padding != nil {
		t.pad(out)
	}
	return out
}

// encodeSeq runs added-token extraction, normalization, pre-tokenization
// and the model on one text. Token offsets are original byte offsets.
func (t *Tokenizer) encodeSeq(text string, st *state, out []tok) []tok {
	p, _ := lossyUTF8(text, &st.a)
	if t.rawTrie == nil {
		return t.encodeNormal(p, st, out)
	}
	return t.splitAdded(p, t.rawTrie, false, st, out)
}

// splitAdded cuts p at added tokens found by trie and encodes the rest,
// normalizing it first unless normalized is set.
func (t *Tokenizer) splitAdded(p piece, trie *byteTrie, normalized bool, st *state, out []tok) []tok {
	s := p.s
	last := 0
	rest := func(a, b int) {
		if b <= a {
			return
		}
		q := p.sub(a, b)
		if normalized {
			out = t.encodePre(q, st, out)
		} else {
			out = t.encodeNormal(q, st, out)
		}
	}
	for i := 0; i < len(s); {
		if trie.root[s[i]] < 0 {
			i++
			continue
		}
		idx, n := trie.longest(s[i:])
		if idx < 0 {
			i++
			continue
		}
		at := t.added[idx]
		start, stop := i, i+n
		if at.singleWord && ((start > 0 && endsWithWord(s[:start])) || (stop < len(s) && startsWithWord(s[stop:]))) {
			i++
			continue
		}
		if at.lstrip {
			for start > last && isSpaceBefore(s[:start]) > 0 {
				start -= isSpaceBefore(s[:start])
			}
		}
		if at.rstrip {
			for stop < len(s) && isSpaceAfter(s[stop:]) > 0 {
				stop += isSpaceAfter(s[stop:])
			}
		}
		rest(last, start)
		os, oe := p.origin(start, stop)
		out = append(out, tok{id: at.id, start: int32(os), end: int32(oe), str: st.addStr(at.content)})
		last = stop
		i = stop
	}
	rest(last, len(s))
	return out
}

func isSpaceBefore(s []byte) int {
	r, sz := lastRune(s)
	if sz > 0 && isSpace(r) {
		return sz
	}
	return 0
}

func isSpaceAfter(s []byte) int {
	r, sz := firstRune(s)
	if sz > 0 && isSpace(r) {
		return sz
	}
	return 0
}

func endsWithWord(s []byte) bool {
	r, sz := lastRune(s)
	return sz > 0 && isWordChar(r)
}

func startsWithWord(s []byte) bool {
	r, sz := firstRune(s)
	return sz > 0 && isWordChar(r)
}

// encodeNormal normalizes p, then handles normalized added tokens.
func (t *Tokenizer) encodeNormal(p piece, st *state, out []tok) []tok {
	if t.normalizer != nil {
		st.np = p
		t.normalizer.normalize(&st.np, st)
		p = st.np
	}
	if t.normTrie != nil {
		return t.splitAdded(p, t.normTrie, true, st, out)
	}
	return t.encodePre(p, st, out)
}

// encodePre pre-tokenizes a normalized piece and runs the model.
func (t *Tokenizer) encodePre(p piece, st *state, out []tok) []tok {
	if len(p.s) == 0 {
		return out
	}
	in := append(st.pre[:0], p)
	st.pre = in
	pieces := in
	if t.pre != nil {
		pieces = t.pre.preTokenize(in, st.pre2[:0], st)
		st.pre2 = pieces
	}
	for i := range pieces {
		q := &pieces[i]
		mark := len(out)
		out = t.model.tokenize(q.s, st, out)
		for k := mark; k < len(out); k++ {
			a, b := q.origin(int(out[k].start), int(out[k].end))
			out[k].start, out[k].end = int32(a), int32(b)
		}
	}
	return out
}

// finishEncoding truncates, adds special tokens and builds the Encoding,
// writing each token once into slices of the final size.
func (t *Tokenizer) finishEncoding(a, b []tok, pair, special bool, st *state) *Encoding {
	truncated := false
	if tr := t.truncation; tr != nil && tr.MaxLength > 0 {
		limit := tr.MaxLength
		if special {
			limit -= t.post.added(pair)
		}
		limit = max(limit, 0)
		a, b, truncated = truncatePair(a, b, pair, limit, tr)
	}
	// Without a post-processor (or special tokens) the sequences follow
	// each other, the second with type 1.
	plain := [2]templatePiece{{seq: 0}, {seq: 1, typeID: 1}}
	tmpl := plain[:]
	if special && t.post != nil {
		tmpl = t.post.single
		if pair {
			tmpl = t.post.pair
		}
	}
	n := 0
	for _, p := range tmpl {
		switch p.seq {
		case -1:
			n += len(p.ids)
		case 0:
			n += len(a)
		case 1:
			n += len(b)
		}
	}
	ints := make([]int, 4*n)
	e := &Encoding{
		IDs:               ints[0:n:n],
		TypeIDs:           ints[n : 2*n : 2*n],
		AttentionMask:     ints[2*n : 3*n : 3*n],
		SpecialTokensMask: ints[3*n : 4*n : 4*n],
		Tokens:            make([]string, n),
		Offsets:           make([][2]int, n),
		Truncated:         truncated,
	}
	v := t.model.vocab()
	i := 0
	for _, p := range tmpl {
		if p.seq < 0 {
			for _, id := range p.ids {
				e.IDs[i], e.TypeIDs[i], e.AttentionMask[i], e.SpecialTokensMask[i] = int(id), int(p.typeID), 1, 1
				e.Tokens[i], _ = t.IDToToken(int(id))
				i++
			}
			continue
		}
		src := a
		if p.seq == 1 {
			src = b
		}
		for _, x := range src {
			e.IDs[i], e.TypeIDs[i], e.AttentionMask[i] = int(x.id), int(p.typeID), 1
			switch {
			case x.str > 0:
				e.Tokens[i] = st.strs[x.str-1]
			case int(x.id) < len(v):
				e.Tokens[i] = v[x.id]
			}
			e.Offsets[i] = [2]int{int(x.start), int(x.end)}
			i++
		}
	}
	return e
}

func truncatePair(a, b []tok, pair bool, limit int, tr *Truncation) ([]tok, []tok, bool) {
	cut := func(s []tok, n int) []tok {
		if len(s) <= n {
			return s
		}
		if tr.Left {
			return s[len(s)-n:]
		}
		return s[:n]
	}
	if !pair {
		if len(a) <= limit {
			return a, b, false
		}
		return cut(a, limit), b, true
	}
	if len(a)+len(b) <= limit {
		return a, b, false
	}
	switch tr.Strategy {
	case OnlyFirst:
		if len(a) > len(a)+len(b)-limit {
			return cut(a, len(a)-(len(a)+len(b)-limit)), b, true
		}
		return a, b, false
	case OnlySecond:
		if len(b) > len(a)+len(b)-limit {
			return a, cut(b, len(b)-(len(a)+len(b)-limit)), true
		}
		return a, b, false
	}
	// Hugging Face's longest-first: the shorter sequence keeps up to half.
	n1, n2 := len(a), len(b)
	swap := n1 > n2
	if swap {
		n1, n2 = n2, n1
	}
	if n1 > limit {
		n2 = n1
	} else {
		n2 = max(n1, limit-n1)
	}
	if n1+n2 > limit {
		n1 = limit / 2
		n2 = n1 + limit%2
	}
	if swap {
		n1, n2 = n2, n1
	}
	return cut(a, n1), cut(b, n2), true
}

func (t *Tokenizer) pad(es []*Encoding) {
	p := t.padding
	target := p.Length
	if target <= 0 {
		for _, e := range es {
			target = max(target, e.Len())
		}
	}
	if p.MultipleOf > 0 && target%p.MultipleOf != 0 {
		target += p.MultipleOf - target%p.MultipleOf
	}
	for _, e := range es {
		k := target - e.Len()
		if k <= 0 {
			continue
		}
		grow := func(s []int, v int) []int {
			pad := make([]int, k)
			for i := range pad {
				pad[i] = v
			}
			if p.Left {
				return append(pad, s...)
			}
			return append(s, pad...)
		}
		e.IDs = grow(e.IDs, p.PadID)
		e.TypeIDs = grow(e.TypeIDs, p.PadTypeID)
		e.AttentionMask = grow(e.AttentionMask, 0)
		e.SpecialTokensMask = grow(e.SpecialTokensMask, 1)
		toks := make([]string, k)
		for i := range toks {
			toks[i] = p.PadToken
		}
		offs := make([][2]int, k)
		if p.Left {
			e.Tokens = append(toks, e.Tokens...)
			e.Offsets = append(offs, e.Offsets...)
		} else {
			e.Tokens = append(e.Tokens, toks...)
			e.Offsets = append(e.Offsets, offs...)
		}
	}
}

// Decode turns ids back into text with the tokenizer's decoder; unknown ids
// are skipped.
func (t *Tokenizer) Decode(ids []int, skipSpecialTokens bool) string {
	toks := make([]string, 0, len(ids))
	for _, id := range ids {
		if skipSpecialTokens && t.specialIDs[int32(id)] {
			continue
		}
		if s, ok := t.IDToToken(id); ok {
			toks = append(toks, s)
		}
	}
	if t.decoder == nil {
		return strings.Join(toks, " ")
	}
	return strings.Join(t.decoder.decodeChain(toks), "")
}
