package tokenizer

import (
	"errors"
	"fmt"
	"math"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
)

// SentencePiece piece types (sentencepiece_model.proto).
const (
	spmNormal      = 1
	spmUnknown     = 2
	spmControl     = 3
	spmUserDefined = 4
	spmUnused      = 5
	spmByte        = 6
)

// spmModel is the part of a SentencePiece ModelProto the tokenizer needs.
type spmModel struct {
	pieces []spmPiece
	// trainer_spec
	modelType    int
	byteFallback bool
	unkID        int
	bosID, eosID int
	padID        int
	splitDigits  bool
	wsAsSuffix   bool
	// normalizer_spec
	charsmap       []byte
	addDummyPrefix bool
	removeExtraWS  bool
	escapeWS       bool
}

type spmPiece struct {
	piece string
	score float32
	typ   int
}

// parseSentencePiece decodes a ModelProto with protowire; unknown fields are
// skipped as protobuf requires.
func parseSentencePiece(b []byte) (*spmModel, error) {
	m := &spmModel{modelType: 1, unkID: 0, bosID: 1, eosID: 2, padID: -1,
		addDummyPrefix: true, removeExtraWS: true, escapeWS: true}
	err := walkProto(b, "ModelProto", func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		switch {
		case num == 1 && typ == protowire.BytesType:
			p := spmPiece{typ: spmNormal}
			err := walkProto(v, "pieces", func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
				switch {
				case num == 1 && typ == protowire.BytesType:
					p.piece = string(v)
				case num == 2 && typ == protowire.Fixed32Type:
					p.score = math.Float32frombits(uint32(x))
				case num == 3 && typ == protowire.VarintType:
					p.typ = int(x)
				}
				return nil
			})
			if err != nil {
				return err
			}
			m.pieces = append(m.pieces, p)
		case num == 2 && typ == protowire.BytesType:
			return walkProto(v, "trainer_spec", func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
				if typ != protowire.VarintType {
					return nil
				}
				switch num {
				case 3:
					m.modelType = int(x)
				case 35:
					m.byteFallback = x != 0
				case 40:
					m.unkID = int(int32(x))
				case 41:
					m.bosID = int(int32(x))
				case 42:
					m.eosID = int(int32(x))
				case 43:
					m.padID = int(int32(x))
				case 25:
					m.splitDigits = x != 0
				case 24:
					m.wsAsSuffix = x != 0
				}
				return nil
			})
		case num == 3 && typ == protowire.BytesType:
			return walkProto(v, "normalizer_spec", func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
				switch {
				case num == 2 && typ == protowire.BytesType:
					m.charsmap = append([]byte(nil), v...)
				case num == 3 && typ == protowire.VarintType:
					m.addDummyPrefix = x != 0
				case num == 4 && typ == protowire.VarintType:
					m.removeExtraWS = x != 0
				case num == 5 && typ == protowire.VarintType:
					m.escapeWS = x != 0
				}
				return nil
			})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(m.pieces) == 0 {
		return nil, errors.New("sentencepiece model: no pieces (is this a .model file?)")
	}
	return m, nil
}

func walkProto(b []byte, what string, fn func(protowire.Number, protowire.Type, []byte, uint64) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fmt.Errorf("sentencepiece model: %s: %w", what, protowire.ParseError(n))
		}
		b = b[n:]
		var v []byte
		var x uint64
		switch typ {
		case protowire.VarintType:
			x, n = protowire.ConsumeVarint(b)
		case protowire.Fixed32Type:
			var y uint32
			y, n = protowire.ConsumeFixed32(b)
			x = uint64(y)
		case protowire.Fixed64Type:
			x, n = protowire.ConsumeFixed64(b)
		case protowire.BytesType:
			v, n = protowire.ConsumeBytes(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return fmt.Errorf("sentencepiece model: %s field %d: %w", what, num, protowire.ParseError(n))
		}
		b = b[n:]
		if err := fn(num, typ, v, x); err != nil {
			return err
		}
	}
	return nil
}

// loadSentencePiece builds a pipeline that reproduces SentencePiece's own
// encoder (spm_encode): its normalizer (longest-match charsmap, whitespace
// handling, dummy prefix), a Viterbi over the whole normalized text in
// float32, and its piece types.
func loadSentencePiece(b []byte) (*Tokenizer, error) {
	m, err := parseSentencePiece(b)
	if err != nil {
		return nil, err
	}
	if m.modelType != 1 {
		return nil, fmt.Errorf("sentencepiece model: model_type %d unsupported (only UNIGRAM)", m.modelType)
	}
	if m.wsAsSuffix {
		return nil, errors.New("sentencepiece model: treat_whitespace_as_suffix is unsupported")
	}
	cm, err := parseCharsmap(m.charsmap)
	if err != nil {
		return nil, fmt.Errorf("sentencepiece model: %w", err)
	}
	ps := make([]unigramPiece, len(m.pieces))
	maxScore := math.Inf(-1)
	for _, p := range m.pieces {
		if p.typ == spmNormal && float64(p.score) > maxScore {
			maxScore = float64(p.score)
		}
	}
	if math.IsInf(maxScore, -1) {
		maxScore = 0
	}
	var user []trieKey
	unk := -1
	for i, p := range m.pieces {
		ps[i] = unigramPiece{piece: p.piece, score: float64(p.score)}
		switch p.typ {
		case spmNormal:
			ps[i].trie = true
		case spmUserDefined:
			ps[i].trie = true
			user = append(user, trieKey{p.piece, int32(i)})
		case spmUnknown:
			unk = i
		}
	}
	if unk < 0 {
		return nil, errors.New("sentencepiece model: no UNKNOWN piece")
	}
	u, err := newUnigramSPM(ps, m.pieces, unk, m.byteFallback, maxScore)
	if err != nil {
		return nil, fmt.Errorf("sentencepiece model: %w", err)
	}
	t := &Tokenizer{model: u}
	sn := &spmNormalizer{cm: cm, addDummyPrefix: m.addDummyPrefix, removeExtraWS: m.removeExtraWS, escapeWS: m.escapeWS}
	if len(user) > 0 {
		sn.user = buildTrie(user)
	}
	t.normalizer = sn
	if m.splitDigits {
		t.pre = digitsPre{individual: true}
	}
	rep := '▁'
	if m.byteFallback {
		t.decoder = sequenceDecoder{replaceDecoder{literal: "▁", content: " "}, byteFallbackDecoder{},
			fuseDecoder{}, stripDecoder{' ', 1, 0}}
		if !m.addDummyPrefix {
			t.decoder = sequenceDecoder{replaceDecoder{literal: "▁", content: " "}, byteFallbackDecoder{}, fuseDecoder{}}
		}
	} else {
		sch := prependAlways
		if !m.addDummyPrefix {
			sch = prependNever
		}
		t.decoder = metaspaceDecoder{rep, sch}
	}
	// Control and unknown pieces decode to nothing with skip_special_tokens,
	// as in spm; they are never matched in input text.
	for i, p := range m.pieces {
		if p.typ == spmControl || p.typ == spmUnknown {
			t.added = append(t.added, addedToken{id: int32(i), content: p.piece, special: true, noMatch: true})
		}
	}
	t.finish()
	return t, nil
}

// newUnigramSPM applies SentencePiece's scoring: the unknown penalty is taken
// from normal pieces only and user-defined pieces score by length.
func newUnigramSPM(ps []unigramPiece, raw []spmPiece, unk int, byteFallback bool, maxScore float64) (*unigram, error) {
	u, err := newUnigram(ps, unk, byteFallback)
	if err != nil {
		return nil, err
	}
	minScore := math.Inf(1)
	for _, p := range raw {
		if p.typ == spmNormal && float64(p.score) < minScore {
			minScore = float64(p.score)
		}
	}
	if math.IsInf(minScore, 1) {
		minScore = 0
	}
	u.unkScore = float64(float32(minScore - 10))
	for i, p := range raw {
		switch p.typ {
		case spmUserDefined:
			u.scores[i] = float64(float32(float64(utf8.RuneCountInString(p.piece))*maxScore - 0.1))
		case spmByte:
			// Byte pieces are reached only through byte fallback.
		}
	}
	u.f32 = true
	return u, nil
}

// spmNormalizer is SentencePiece's Normalizer::Normalize.
type spmNormalizer struct {
	cm                                      *charsmap
	user                                    *byteTrie
	addDummyPrefix, removeExtraWS, escapeWS bool
}

const spaceSymbol = "▁"

func (n *spmNormalizer) normalize(p *piece, st *state) {
	in := p.s
	out := st.a.bytes(3*len(in) + 8)
	al := st.a.spans(3*len(in) + 8)
	orig := func(i, j int) span {
		a, b := p.origin(i, j)
		return span{int32(a), int32(b)}
	}
	// prefix returns the normalized form of the longest match at in[i:] and
	// how many input bytes it consumes.
	prefix := func(i int) ([]byte, int) {
		if n.user != nil {
			if id, l := n.user.longest(in[i:]); id >= 0 {
				return in[i : i+l], l
			}
		}
		if n.cm != nil {
			if rep, l := n.cm.longest(in[i:]); l > 0 {
				return rep, l
			}
		}
		sz := runeLen(in[i:])
		return in[i : i+sz], sz
	}
	i := 0
	if n.removeExtraWS {
		for i < len(in) {
			r, l := prefix(i)
			if string(r) != " " {
				break
			}
			i += l
		}
	}
	if i >= len(in) {
		p.s, p.align = out, al
		return
	}
	emitSpace := func(sp span) {
		if n.escapeWS {
			out = append(out, spaceSymbol...)
			al = append(al, sp, sp, sp)
		} else {
			out = append(out, ' ')
			al = append(al, sp)
		}
	}
	if n.addDummyPrefix {
		emitSpace(orig(i, i+1))
	}
	prevSpace := n.removeExtraWS
	for i < len(in) {
		r, l := prefix(i)
		sp := orig(i, i+l)
		if prevSpace {
			for len(r) > 0 && r[0] == ' ' {
				r = r[1:]
			}
		}
		if len(r) > 0 {
			for _, c := range r {
				if c == ' ' {
					emitSpace(sp)
				} else {
					out = append(out, c)
					al = append(al, sp)
				}
			}
			prevSpace = r[len(r)-1] == ' '
		}
		i += l
		if !n.removeExtraWS {
			prevSpace = false
		}
	}
	if n.removeExtraWS {
		sym := " "
		if n.escapeWS {
			sym = spaceSymbol
		}
		for len(out) >= len(sym) && string(out[len(out)-len(sym):]) == sym {
			out, al = out[:len(out)-len(sym)], al[:len(al)-len(sym)]
		}
	}
	p.s, p.align = out, al
}
