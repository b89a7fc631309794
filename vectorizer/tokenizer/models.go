package tokenizer

import (
	"fmt"
	"math"
	"unicode/utf8"
)

// tok is one model token; start/end are byte offsets in the piece it came
// from until the pipeline maps them to the original text. It holds no
// pointers, so the per-call token buffers cost the garbage collector
// nothing.
type tok struct {
	id         int32
	start, end int32
	// str, when not 0, is 1 + the index in state.strs of the token's text
	// (for text that is not the vocabulary entry).
	str int32
}

type model interface {
	tokenize(s []byte, st *state, out []tok) []tok
	vocab() []string
}

// wordPiece is greedy longest-match-first subword tokenization.
type wordPiece struct {
	ids      []string
	unkID    int32
	prefix   string
	maxChars int
	init     *byteTrie // every vocabulary entry
	cont     *byteTrie // entries starting with prefix, prefix removed
}

func newWordPiece(vocab map[string]int, unk, prefix string, maxChars int) (*wordPiece, error) {
	ids, err := denseVocab(vocab)
	if err != nil {
		return nil, err
	}
	unkID, ok := vocab[unk]
	if !ok {
		return nil, fmt.Errorf("unk_token %q is not in the vocabulary", unk)
	}
	var ik, ck []trieKey
	for t, id := range vocab {
		ik = append(ik, trieKey{t, int32(id)})
		if prefix != "" && len(t) > len(prefix) && t[:len(prefix)] == prefix {
			ck = append(ck, trieKey{t[len(prefix):], int32(id)})
		}
	}
	if prefix == "" {
		ck = ik
	}
	return &wordPiece{ids: ids, unkID: int32(unkID), prefix: prefix, maxChars: maxChars,
		init: buildTrie(ik), cont: buildTrie(ck)}, nil
}

// denseVocab turns token→id into id→token, requiring ids 0..n-1.
func denseVocab(vocab map[string]int) ([]string, error) {
	ids := make([]string, len(vocab))
	seen := make([]bool, len(vocab))
	for t, id := range vocab {
		if id < 0 || id >= len(vocab) {
			return nil, fmt.Errorf("token %q has id %d outside 0..%d", t, id, len(vocab)-1)
		}
		if seen[id] {
			return nil, fmt.Errorf("id %d is used by %q and %q", id, ids[id], t)
		}
		ids[id], seen[id] = t, true
	}
	return ids, nil
}

func (w *wordPiece) vocab() []string { return w.ids }

func (w *wordPiece) tokenize(s []byte, st *state, out []tok) []tok {
	if len(s) == 0 {
		return out
	}
	if w.maxChars > 0 && len(s) > w.maxChars && utf8.RuneCount(s) > w.maxChars {
		return append(out, tok{id: w.unkID, start: 0, end: int32(len(s))})
	}
	mark := len(out)
	for start := 0; start < len(s); {
		t := w.init
		if start > 0 {
			t = w.cont
		}
		id, n := t.longest(s[start:])
		// A match must end on a character boundary; vocabulary entries are
		// valid UTF-8, so only a continuation-byte prefix could break this.
		for n > 0 && start+n < len(s) && !utf8.RuneStart(s[start+n]) {
			id, n = t.longestUpTo(s[start:], n-1)
		}
		if id < 0 {
			return append(out[:mark], tok{id: w.unkID, start: 0, end: int32(len(s))})
		}
		out = append(out, tok{id: id, start: int32(start), end: int32(start + n)})
		start += n
	}
	return out
}

// longestUpTo is longest restricted to prefixes of at most limit bytes.
func (t *byteTrie) longestUpTo(s []byte, limit int) (int32, int) {
	if limit < len(s) {
		s = s[:limit]
	}
	return t.longest(s)
}

// unigram is the SentencePiece unigram language model: Viterbi over a trie
// of all pieces with the pieces' log-probabilities, no length limit.
type unigram struct {
	pieces       []string
	scores       []float64
	unkID        int32
	byteFallback bool
	byteIDs      [256]int32
	trie         *byteTrie
	unkScore     float64
	// f32 keeps path scores in float32 as SentencePiece's C++ does;
	// tokenizer.json (Hugging Face) accumulates in float64.
	f32 bool
}

// unigramPiece is one vocabulary entry; trie=false keeps it out of the
// Viterbi lattice (SentencePiece control and unused pieces).
type unigramPiece struct {
	piece string
	score float64
	trie  bool
}

func newUnigram(ps []unigramPiece, unkID int, byteFallback bool) (*unigram, error) {
	u := &unigram{pieces: make([]string, len(ps)), scores: make([]float64, len(ps)),
		unkID: int32(unkID), byteFallback: byteFallback}
	if unkID >= len(ps) {
		return nil, fmt.Errorf("unk_id %d is outside the vocabulary of %d pieces", unkID, len(ps))
	}
	for i := range u.byteIDs {
		u.byteIDs[i] = -1
	}
	minScore := math.Inf(1)
	keys := make([]trieKey, 0, len(ps))
	seen := make(map[string]bool, len(ps))
	for i, p := range ps {
		u.pieces[i], u.scores[i] = p.piece, p.score
		if p.trie && !seen[p.piece] && p.piece != "" {
			seen[p.piece] = true
			keys = append(keys, trieKey{p.piece, int32(i)})
			if p.score < minScore {
				minScore = p.score
			}
		}
		if len(p.piece) == 6 && p.piece[:3] == "<0x" && p.piece[5] == '>' {
			if b, ok := parseHexByte(p.piece[3:5]); ok && u.byteIDs[b] < 0 {
				u.byteIDs[b] = int32(i)
			}
		}
	}
	if math.IsInf(minScore, 1) {
		minScore = 0
	}
	u.unkScore = minScore - 10
	if unkID < 0 {
		for _, id := range u.byteIDs {
			if id < 0 || !byteFallback {
				return nil, fmt.Errorf("no unk_id, and byte_fallback does not cover every byte")
			}
		}
	}
	u.trie = buildTrie(keys)
	return u, nil
}

func parseHexByte(h string) (byte, bool) {
	var v byte
	for i := 0; i < 2; i++ {
		c := h[i]
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | (c - '0')
		case c >= 'A' && c <= 'F':
			v = v<<4 | (c - 'A' + 10)
		default:
			return 0, false
		}
	}
	return v, true
}

func (u *unigram) vocab() []string { return u.pieces }

type viterbi struct {
	score  []float64
	from   []int32
	id     []int32
	starts []int32
	ends   []int32
	ids    []int32
}

func (u *unigram) tokenize(s []byte, st *state, out []tok) []tok {
	n := len(s)
	if n == 0 {
		return out
	}
	v := &st.vit
	if cap(v.score) < n+1 {
		v.score = make([]float64, n+1)
		v.from = make([]int32, n+1)
		v.id = make([]int32, n+1)
	}
	score, from, ids := v.score[:n+1], v.from[:n+1], v.id[:n+1]
	for i := range from {
		from[i] = -1
	}
	score[0] = 0
	units := u.trie.units
	for start := 0; start < n; {
		base := score[start]
		mblen := runeLen(s[start:])
		single := false
		node := int32(0)
		for i := start; i < n; i++ {
			b := units[node].base
			if b == 0 {
				break
			}
			m := b + int32(s[i])
			if units[m].check != node {
				break
			}
			node = m
			id := units[m].value
			if id < 0 {
				continue
			}
			end := i + 1
			// In f32 mode the candidate is compared unrounded and stored
			// rounded, as SentencePiece does (its score expression is
			// double, its lattice float); this decides exact ties.
			cand := base + u.scores[id]
			if from[end] < 0 || cand > score[end] {
				if u.f32 {
					cand = float64(float32(cand))
				}
				score[end], from[end], ids[end] = cand, int32(start), id
			}
			if end-start == mblen {
				single = true
			}
		}
		if !single {
			end := start + mblen
			cand := base + u.unkScore
			if u.f32 {
				cand = float64(float32(cand))
			}
			if from[end] < 0 || cand > score[end] {
				score[end], from[end], ids[end] = cand, int32(start), u.unkID
			}
		}
		start += mblen
	}
	// Backtrack into reversed scratch, fusing runs of unknown pieces.
	starts, ends, rid := v.starts[:0], v.ends[:0], v.ids[:0]
	for end := n; end > 0; {
		start := int(from[end])
		if start < 0 {
			// Unreachable for valid UTF-8; fall back to one unknown piece.
			start = 0
		}
		id := ids[end]
		if id == u.unkID && len(rid) > 0 && rid[len(rid)-1] == u.unkID {
			starts[len(starts)-1] = int32(start)
		} else {
			starts, ends, rid = append(starts, int32(start)), append(ends, int32(end)), append(rid, id)
		}
		end = start
	}
	v.starts, v.ends, v.ids = starts, ends, rid
	for k := len(rid) - 1; k >= 0; k-- {
		a, b, id := starts[k], ends[k], rid[k]
		if id != u.unkID {
			out = append(out, tok{id: id, start: a, end: b})
			continue
		}
		if u.byteFallback && u.coversBytes(s[a:b]) {
			for _, c := range s[a:b] {
				out = append(out, tok{id: u.byteIDs[c], start: a, end: b})
			}
			continue
		}
		out = append(out, tok{id: max(id, 0), start: a, end: b, str: st.addStr(string(s[a:b]))})
	}
	return out
}

func (u *unigram) coversBytes(b []byte) bool {
	for _, c := range b {
		if u.byteIDs[c] < 0 {
			return false
		}
	}
	return true
}
