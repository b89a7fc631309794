package tokenizer

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// decoder is Hugging Face's decode_chain: tokens in, tokens out; the final
// text is the concatenation.
type decoder interface {
	decodeChain(toks []string) []string
}

type wordPieceDecoder struct {
	prefix  string
	cleanup bool
}

func (d wordPieceDecoder) decodeChain(toks []string) []string {
	for i, t := range toks {
		if i != 0 {
			if strings.HasPrefix(t, d.prefix) {
				t = strings.Replace(t, d.prefix, "", 1)
			} else {
				t = " " + t
			}
		}
		if d.cleanup {
			t = cleanupTokenization(t)
		}
		toks[i] = t
	}
	return toks
}

var cleanupReplacer = strings.NewReplacer(
	" .", ".", " ?", "?", " !", "!", " ,", ",", " ' ", "'", " n't", "n't",
	" 'm", "'m", " do not", " don't", " 's", "'s", " 've", "'ve", " 're", "'re")

// cleanupTokenization mirrors Hugging Face's sequential replace calls.
func cleanupTokenization(s string) string {
	if !strings.ContainsAny(s, " ") {
		return s
	}
	for _, pr := range [][2]string{{" .", "."}, {" ?", "?"}, {" !", "!"}, {" ,", ","}, {" ' ", "'"}, {" n't", "n't"},
		{" 'm", "'m"}, {" do not", " don't"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}} {
		s = strings.ReplaceAll(s, pr[0], pr[1])
	}
	return s
}

var _ = cleanupReplacer

type metaspaceDecoder struct {
	replacement rune
	scheme      prependScheme
}

func (d metaspaceDecoder) decodeChain(toks []string) []string {
	var b strings.Builder
	for i, t := range toks {
		if !strings.ContainsRune(t, d.replacement) {
			continue
		}
		b.Reset()
		for _, r := range t {
			if r == d.replacement {
				if i == 0 && d.scheme != prependNever {
					continue
				}
				b.WriteByte(' ')
			} else {
				b.WriteRune(r)
			}
		}
		toks[i] = b.String()
	}
	return toks
}

type byteFallbackDecoder struct{}

func (byteFallbackDecoder) decodeChain(toks []string) []string {
	out := toks[:0:0]
	var pending []byte
	flush := func() {
		if len(pending) == 0 {
			return
		}
		if utf8.Valid(pending) {
			out = append(out, string(pending))
		} else {
			for range pending {
				out = append(out, "\uFFFD")
			}
		}
		pending = pending[:0]
	}
	for _, t := range toks {
		if len(t) == 6 && strings.HasPrefix(t, "<0x") && t[5] == '>' {
			if b, ok := parseHexByte(t[3:5]); ok {
				pending = append(pending, b)
				continue
			}
		}
		flush()
		out = append(out, t)
	}
	flush()
	return out
}

type fuseDecoder struct{}

func (fuseDecoder) decodeChain(toks []string) []string {
	return []string{strings.Join(toks, "")}
}

type stripDecoder struct {
	content     rune
	start, stop int
}

func (d stripDecoder) decodeChain(toks []string) []string {
	c := string(d.content)
	for i, t := range toks {
		for k := 0; k < d.start && strings.HasPrefix(t, c); k++ {
			t = t[len(c):]
		}
		for k := 0; k < d.stop && strings.HasSuffix(t, c); k++ {
			t = t[:len(t)-len(c)]
		}
		toks[i] = t
	}
	return toks
}

type replaceDecoder struct {
	literal string
	re      *regexp.Regexp
	content string
}

func (d replaceDecoder) decodeChain(toks []string) []string {
	for i, t := range toks {
		if d.re != nil {
			toks[i] = d.re.ReplaceAllLiteralString(t, d.content)
		} else if d.literal != "" {
			toks[i] = strings.ReplaceAll(t, d.literal, d.content)
		}
	}
	return toks
}

type sequenceDecoder []decoder

func (s sequenceDecoder) decodeChain(toks []string) []string {
	for _, d := range s {
		toks = d.decodeChain(toks)
	}
	return toks
}
