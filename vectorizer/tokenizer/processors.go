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
