package tokenizer

// templatePiece is one element of a TemplateProcessing template: either a
// sequence (seq 0 = A, 1 = B) or a special token's ids.
type templatePiece struct {
	seq    int // -1 for a special token
	typeID int8
	ids    []int32
	toks   []string
}

// postProcessor adds special tokens around one or two sequences.
type postProcessor struct {
	single, pair []templatePiece
}

func (pp *postProcessor) added(pair bool) int {
	if pp == nil {
		return 0
	}
	t := pp.single
	if pair {
		t = pp.pair
	}
	n := 0
	for _, p := range t {
		if p.seq < 0 {
			n += len(p.ids)
		}
	}
	return n
}

// apply builds the final token list from a (and b when pair).
func (pp *postProcessor) apply(a, b []tok, pair bool, out []tok) []tok {
	if pp == nil {
		out = append(out, a...)
		for _, t := range b {
			t.typeID = 1
			out = append(out, t)
		}
		return out
	}
	tmpl := pp.single
	if pair {
		tmpl = pp.pair
	}
	for _, p := range tmpl {
		switch p.seq {
		case -1:
			for _, id := range p.ids {
				out = append(out, tok{id: id, typeID: p.typeID, special: true, start: -1, end: -1})
			}
		case 0, 1:
			src := a
			if p.seq == 1 {
				src = b
			}
			for _, t := range src {
				t.typeID = p.typeID
				out = append(out, t)
			}
		}
	}
	return out
}

// bertTemplate is BertProcessing as a template: [CLS] A [SEP] (B [SEP]).
func bertTemplate(cls, sep int32, clsTok, sepTok string) *postProcessor {
	c := templatePiece{seq: -1, ids: []int32{cls}, toks: []string{clsTok}}
	s := templatePiece{seq: -1, ids: []int32{sep}, toks: []string{sepTok}}
	s1 := s
	s1.typeID = 1
	return &postProcessor{
		single: []templatePiece{c, {seq: 0}, s},
		pair:   []templatePiece{c, {seq: 0}, s, {seq: 1, typeID: 1}, s1},
	}
}

// robertaTemplate is RobertaProcessing: <s> A </s> (</s> B </s>), all type 0.
func robertaTemplate(cls, sep int32, clsTok, sepTok string) *postProcessor {
	c := templatePiece{seq: -1, ids: []int32{cls}, toks: []string{clsTok}}
	s := templatePiece{seq: -1, ids: []int32{sep}, toks: []string{sepTok}}
	return &postProcessor{
		single: []templatePiece{c, {seq: 0}, s},
		pair:   []templatePiece{c, {seq: 0}, s, s, {seq: 1}, s},
	}
}
