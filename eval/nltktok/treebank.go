package nltktok

import (
	"fmt"
	"strings"

	"github.com/dlclark/regexp2"
)

// rule is one substitution of NLTKWordTokenizer. anyOf / lowerSub are
// cheap prefilters: a rule whose pattern needs a character (or, for the
// case-insensitive contractions, a lower-case substring) absent from the
// text cannot match, and skipping it avoids most of the backtracking cost.
type rule struct {
	re       *regexp2.Regexp
	tmpl     []tmplPart
	anyOf    string
	lowerSub string
}

// tmplPart is a literal or a group reference ($N) of a replacement.
type tmplPart struct {
	lit   string
	group int // -1: literal
}

func parseTmpl(repl string) []tmplPart {
	var parts []tmplPart
	lit := ""
	for i := 0; i < len(repl); i++ {
		if repl[i] == '$' && i+1 < len(repl) && repl[i+1] >= '0' && repl[i+1] <= '9' {
			if lit != "" {
				parts = append(parts, tmplPart{lit: lit, group: -1})
				lit = ""
			}
			parts = append(parts, tmplPart{group: int(repl[i+1] - '0')})
			i++
			continue
		}
		lit += string(repl[i])
	}
	if lit != "" {
		parts = append(parts, tmplPart{lit: lit, group: -1})
	}
	return parts
}

// r builds a rule; repl uses $0 for the whole match and $1.. for groups
// (Python's \g<0> and \1..).
func r(pat, repl, anyOf string) rule {
	return rule{re: compile(pat), tmpl: parseTmpl(repl), anyOf: anyOf}
}

func ri(pat, repl, lowerSub string) rule {
	return rule{re: compile(pat), tmpl: parseTmpl(repl), lowerSub: lowerSub}
}

// The rule lists mirror nltk/tokenize/destructive.py (NLTKWordTokenizer,
// NLTK 3.8) one for one and in the same order; a change in order changes
// the output.
var (
	startingQuotes = []rule{
		r("([«“‘„]|[`]+)", " $1 ", "«“‘„`"),
		r(`^"`, "``", `"`),
		r("(``)", " $1 ", "`"),
		r(`([ (\[{<])("|'{2})`, "$1 `` ", `"'`),
		r(`(?i)(')(?!re|ve|ll|m|t|s|d|n)({W}){B}`, "$1 $2", "'"),
	}
	punctuation = []rule{
		r(`([^.])(\.)([\])}>"'»”’ ]*){S}*$`, "$1 $2 $3 ", "."),
		r(`([:,])([^{D}])`, " $1 $2", ":,"),
		r(`([:,])$`, " $1 ", ":,"),
		r(`\.{2,}`, " $0 ", "."),
		r(`[;@#$%&]`, " $0 ", ";@#$%&"),
		r(`([^.])(\.)([\])}>"']*){S}*$`, "$1 $2$3 ", "."),
		r(`[?!]`, " $0 ", "?!"),
		r(`([^'])' `, "$1 ' ", "'"),
		r(`[*]`, " $0 ", "*"),
	}
	parensBrackets = r(`[\]\[(){}<>]`, " $0 ", "[](){}<>")
	doubleDashes   = r(`--`, " -- ", "-")
	endingQuotes   = []rule{
		r(`([»”’])`, " $1 ", "»”’"),
		r(`''`, " '' ", "'"),
		r(`"`, " '' ", `"`),
		r(`([^' ])('[sS]|'[mM]|'[dD]|') `, "$1 $2 ", "'"),
		r(`([^' ])('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) `, "$1 $2 ", "'"),
	}
	// Prefilters avoid 's' and 'k', which (?i) also matches as U+017F and
	// U+212A.
	contractions = []rule{
		ri(`(?i){B}(can)(not){B}`, " $1 $2 ", "cannot"),
		ri(`(?i){B}(d)('ye){B}`, " $1 $2 ", "'ye"),
		ri(`(?i){B}(gim)(me){B}`, " $1 $2 ", "gimme"),
		ri(`(?i){B}(gon)(na){B}`, " $1 $2 ", "gonna"),
		ri(`(?i){B}(got)(ta){B}`, " $1 $2 ", "gotta"),
		ri(`(?i){B}(lem)(me){B}`, " $1 $2 ", "lemme"),
		ri(`(?i){B}(more)('n){B}`, " $1 $2 ", "more'n"),
		ri(`(?i){B}(wan)(na)(?={S})`, " $1 $2 ", "wanna"),
		ri(`(?i) ('t)(is){B}`, " $1 $2 ", " 't"),
		ri(`(?i) ('t)(was){B}`, " $1 $2 ", " 'twa"),
	}
)

func apply(text string, rules ...rule) string {
	for _, ru := range rules {
		if ru.anyOf != "" && !strings.ContainsAny(text, ru.anyOf) {
			continue
		}
		if ru.lowerSub != "" && !strings.Contains(strings.ToLower(text), ru.lowerSub) {
			continue
		}
		out, err := ru.re.ReplaceFunc(text, func(m regexp2.Match) string {
			var b strings.Builder
			for _, p := range ru.tmpl {
				if p.group < 0 {
					b.WriteString(p.lit)
				} else if g := m.GroupByNumber(p.group); g != nil && len(g.Captures) > 0 {
					b.WriteString(g.String())
				}
			}
			return b.String()
		}, -1, -1)
		if err != nil {
			// Only a match timeout can fail, and none is configured.
			panic(fmt.Sprintf("nltktok: regexp %q: %v", ru.re.String(), err))
		}
		text = out
	}
	return text
}

// TreebankTokenize is NLTKWordTokenizer().tokenize(sentence) with
// convert_parentheses=False: the word tokenizer word_tokenize applies to
// each sentence. It expects one sentence; a period is split off only at
// the end of the input.
func TreebankTokenize(sentence string) []string {
	text := apply(sentence, startingQuotes...)
	text = apply(text, punctuation...)
	text = apply(text, parensBrackets, doubleDashes)
	text = " " + text + " "
	text = apply(text, endingQuotes...)
	text = apply(text, contractions...)
	return pySplit(text)
}
