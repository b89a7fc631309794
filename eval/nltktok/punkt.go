package nltktok

import (
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/dlclark/regexp2"
)

// Orthographic context flags, as in nltk/tokenize/punkt.py.
const (
	OrthoBegUC = 1 << 1
	OrthoMidUC = 1 << 2
	OrthoUnkUC = 1 << 3
	OrthoBegLC = 1 << 4
	OrthoMidLC = 1 << 5
	OrthoUnkLC = 1 << 6
	orthoUC    = OrthoBegUC | OrthoMidUC | OrthoUnkUC
	orthoLC    = OrthoBegLC | OrthoMidLC | OrthoUnkLC
)

// PunktParams are the learned parameters of a Punkt model (PunktParameters).
// The zero value is an untrained model: no abbreviations, collocations,
// sentence starters or orthographic evidence.
type PunktParams struct {
	AbbrevTypes  map[string]bool
	Collocations map[[2]string]bool
	SentStarters map[string]bool
	OrthoContext map[string]int
}

// Punkt is PunktSentenceTokenizer with the default English language
// variables. It is safe for concurrent use.
type Punkt struct {
	p PunktParams
}

// NewPunkt returns a sentence splitter using params (nil: untrained).
func NewPunkt(params *PunktParams) *Punkt {
	if params == nil {
		return &Punkt{}
	}
	return &Punkt{p: *params}
}

const (
	punktNonWord   = `(?:[)";}\]*:@'({\[!?])`
	punktMultiChar = `(?:-{2,}|\.{2,}|(?:\.{S}){2,}\.)`
	punktWordStart = `[^("` + "`" + `{\[:;&#*@)}\]\-,]`
)

var (
	punktWordRe = compile(`(` + punktMultiChar +
		`|(?=` + punktWordStart + `){NS}+?(?={S}|$|` + punktNonWord + `|` + punktMultiChar +
		`|,(?=$|{S}|` + punktNonWord + `|` + punktMultiChar + `))|{NS})`)
	periodContextRe = compile(`[.?!](?=(?<after_tok>` + punktNonWord + `|{S}+(?<next_tok>{NS}+)))`)
	// re.match anchors at the start; \A does the same here. (?m) as in NLTK.
	boundaryRealignRe = compile(`(?m)\A["')\]}]+?(?:{S}+|(?=--)|$)`)

	// Token property patterns; none needs lookaround, so Go's regexp does.
	reNumeric  = regexp.MustCompile(`^-?[.,]?\p{Nd}[\p{Nd},.\-]*\.?$`)
	reEllipsis = regexp.MustCompile(`^\.\.+$`)
	reInitial  = regexp.MustCompile(`^[\p{L}\p{Nl}\p{No}_]\.$`)
)

type punktToken struct {
	tok                 string
	typ                 string
	periodFinal         bool
	sentbreak, abbr     bool
	ellipsis, isInitial bool
}

func newPunktToken(tok string) *punktToken {
	t := &punktToken{tok: tok, periodFinal: strings.HasSuffix(tok, ".")}
	low := strings.ToLower(tok)
	if reNumeric.MatchString(low) {
		t.typ = "##number##"
	} else {
		t.typ = low
	}
	t.isInitial = reInitial.MatchString(tok)
	return t
}

func (t *punktToken) typeNoPeriod() string {
	if utf8.RuneCountInString(t.typ) > 1 && strings.HasSuffix(t.typ, ".") {
		return t.typ[:len(t.typ)-1]
	}
	return t.typ
}

func (t *punktToken) typeNoSentPeriod() string {
	if t.sentbreak {
		return t.typeNoPeriod()
	}
	return t.typ
}

func (t *punktToken) firstUpper() bool {
	r, _ := utf8.DecodeRuneInString(t.tok)
	return isPyUpper(r)
}

func (t *punktToken) firstLower() bool {
	r, _ := utf8.DecodeRuneInString(t.tok)
	return isPyLower(r)
}

// wordTokens is PunktBaseClass._tokenize_words without the line/paragraph
// flags, which only the trainer reads.
func wordTokens(text string) []*punktToken {
	var toks []*punktToken
	for _, line := range strings.Split(text, "\n") {
		if pyStrip(line) == "" {
			continue
		}
		m, _ := punktWordRe.FindStringMatch(line)
		for m != nil {
			toks = append(toks, newPunktToken(m.String()))
			m, _ = punktWordRe.FindNextMatch(m)
		}
	}
	return toks
}

func (p *Punkt) firstPass(t *punktToken) {
	tok := t.tok
	switch {
	case tok == "." || tok == "?" || tok == "!":
		t.sentbreak = true
	case reEllipsis.MatchString(tok):
		t.ellipsis = true
	case t.periodFinal && !strings.HasSuffix(tok, ".."):
		stem := strings.ToLower(tok[:len(tok)-1])
		parts := strings.Split(stem, "-")
		if p.p.AbbrevTypes[stem] || p.p.AbbrevTypes[parts[len(parts)-1]] {
			t.abbr = true
		} else {
			t.sentbreak = true
		}
	}
}

// orthoHeuristic returns 1 (sentence starter), 0 (not), -1 (unknown).
func (p *Punkt) orthoHeuristic(t *punktToken) int {
	if len(t.tok) == 1 && strings.ContainsAny(t.tok, ";:,.!?") {
		return 0
	}
	oc := p.p.OrthoContext[t.typeNoSentPeriod()]
	if t.firstUpper() && oc&orthoLC != 0 && oc&OrthoMidUC == 0 {
		return 1
	}
	if t.firstLower() && (oc&orthoUC != 0 || oc&OrthoBegLC == 0) {
		return 0
	}
	return -1
}

func (p *Punkt) secondPass(t1, t2 *punktToken) {
	if !t1.periodFinal {
		return
	}
	typ := t1.typeNoPeriod()
	nextTyp := t2.typeNoSentPeriod()
	if p.p.Collocations[[2]string{typ, nextTyp}] {
		t1.sentbreak, t1.abbr = false, true
		return
	}
	if (t1.abbr || t1.ellipsis) && !t1.isInitial {
		if p.orthoHeuristic(t2) == 1 {
			t1.sentbreak = true
			return
		}
		if t2.firstUpper() && p.p.SentStarters[nextTyp] {
			t1.sentbreak = true
			return
		}
	}
	if t1.isInitial || typ == "##number##" {
		h := p.orthoHeuristic(t2)
		if h == 0 {
			t1.sentbreak, t1.abbr = false, true
			return
		}
		if h == -1 && t1.isInitial && t2.firstUpper() && p.p.OrthoContext[nextTyp]&orthoLC == 0 {
			t1.sentbreak, t1.abbr = false, true
		}
	}
}

// containsSentbreak is text_contains_sentbreak: a break before the last
// token.
func (p *Punkt) containsSentbreak(text string) bool {
	toks := wordTokens(text)
	for _, t := range toks {
		p.firstPass(t)
	}
	for i := 0; i+1 < len(toks); i++ {
		p.secondPass(toks[i], toks[i+1])
		if toks[i].sentbreak {
			return true
		}
	}
	return false
}

type span struct{ start, stop int } // rune offsets

type endContext struct {
	start, end int // the sentence-end character
	nextTok    int // rune offset of the following token, -1 if none
	context    string
}

func lastASCIISpace(rs []rune) int {
	for i := len(rs) - 1; i >= 0; i-- {
		switch rs[i] {
		case ' ', '\t', '\n', '\r', '\x0b', '\x0c':
			return i
		}
	}
	return 0
}

// endContexts is _match_potential_end_contexts, including its quirks (the
// ASCII-only whitespace search, and index 0 counting as "not found").
func endContexts(rs []rune) []endContext {
	var out []endContext
	prev := span{0, 0}
	var prevM *regexp2.Match
	emit := func(m *regexp2.Match, sl span) {
		after := m.GroupByName("after_tok")
		ec := endContext{start: m.Index, end: m.Index + m.Length, nextTok: -1}
		if nt := m.GroupByName("next_tok"); nt != nil && len(nt.Captures) > 0 {
			ec.nextTok = nt.Index
		}
		ec.context = string(rs[sl.start:sl.stop]) + m.String() + after.String()
		out = append(out, ec)
	}
	m, _ := periodContextRe.FindRunesMatch(rs)
	for m != nil {
		before := rs[prev.stop:m.Index]
		idx := lastASCIISpace(before)
		if idx != 0 {
			idx += prev.stop + 1
		} else {
			idx = prev.start
		}
		word := span{idx, m.Index}
		if prevM != nil && prev.stop <= word.start {
			emit(prevM, prev)
		}
		prevM, prev = m, word
		m, _ = periodContextRe.FindNextMatch(m)
	}
	if prevM != nil {
		emit(prevM, prev)
	}
	return out
}

// Spans returns the sentence spans (rune offsets) of text, as
// PunktSentenceTokenizer.span_tokenize(text, realign_boundaries=True).
func (p *Punkt) Spans(text string) [][2]int {
	rs := []rune(text)
	var slices []span
	last := 0
	for _, ec := range endContexts(rs) {
		if p.containsSentbreak(ec.context) {
			slices = append(slices, span{last, ec.end})
			if ec.nextTok >= 0 {
				last = ec.nextTok
			} else {
				last = ec.end
			}
		}
	}
	slices = append(slices, span{last, utf8.RuneCountInString(pyRStrip(text))})

	// _realign_boundaries.
	var out [][2]int
	sub := func(s span) []rune {
		if s.start >= s.stop {
			return nil
		}
		return rs[s.start:s.stop]
	}
	realign := 0
	for i, s1 := range slices {
		s1 = span{s1.start + realign, s1.stop}
		if i+1 == len(slices) {
			if len(sub(s1)) > 0 {
				out = append(out, [2]int{s1.start, s1.stop})
			}
			continue
		}
		s2 := slices[i+1]
		m, _ := boundaryRealignRe.FindRunesMatch(sub(s2))
		if m != nil {
			out = append(out, [2]int{s1.start, s2.start + utf8.RuneCountInString(pyRStrip(m.String()))})
			realign = m.Index + m.Length
		} else {
			realign = 0
			if len(sub(s1)) > 0 {
				out = append(out, [2]int{s1.start, s1.stop})
			}
		}
	}
	return out
}

// Sentences splits text into sentences (PunktSentenceTokenizer.tokenize).
func (p *Punkt) Sentences(text string) []string {
	rs := []rune(text)
	var out []string
	for _, s := range p.Spans(text) {
		if s[0] >= s[1] {
			out = append(out, "")
			continue
		}
		out = append(out, string(rs[s[0]:s[1]]))
	}
	return out
}
