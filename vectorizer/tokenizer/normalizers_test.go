package tokenizer

import (
	"bytes"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"
)

func normalizeWith(n normalizer, s string) (string, [][2]int) {
	st := &state{}
	p, _ := lossyUTF8(s, &st.a)
	n.normalize(&p, st)
	var al [][2]int
	for _, a := range p.align {
		al = append(al, [2]int{int(a.start), int(a.end)})
	}
	return string(p.s), al
}

func TestBertNormalizerStripAccents(t *testing.T) {
	tests := []struct {
		cfg  string
		in   string
		want string
	}{
		{`"lowercase":true,"strip_accents":null`, "Héllo Ǟ", "hello a"},
		{`"lowercase":false,"strip_accents":null`, "Héllo", "Héllo"},
		{`"lowercase":true,"strip_accents":false`, "Héllo", "héllo"},
		{`"lowercase":false,"strip_accents":true`, "Héllo", "Hello"},
		{`"lowercase":true`, "İ\u200dx\tｙ\u0000", "ix ｙ"},
	}
	for _, tc := range tests {
		o, err := Load(strings.NewReader(`{"normalizer":{"type":"BertNormalizer",` + tc.cfg + `},"model":{"type":"WordPiece","vocab":{"[UNK]":0}}}`))
		if err != nil {
			t.Fatal(err)
		}
		got, _ := normalizeWith(o.normalizer, tc.in)
		if got != tc.want {
			t.Errorf("%s: %q -> %q, want %q", tc.cfg, tc.in, got, tc.want)
		}
	}
}

func TestNormalizerAlignments(t *testing.T) {
	re := regexp.MustCompile(" {2,}")
	tests := []struct {
		name  string
		n     normalizer
		in    string
		want  string
		align [][2]int
	}{
		{"strip", stripNormalizer{true, true}, " a ", "a", [][2]int{{1, 2}}},
		{"replace keeps the last char's alignment", replaceNormalizer{re: re, run: runPattern(re), content: " "}, "a   b", "a b", [][2]int{{0, 1}, {3, 4}, {4, 5}}},
		{"nfd", unicodeNormalizer{norm.NFD}, "é", "e\u0301", [][2]int{{0, 2}, {0, 2}, {0, 2}}},
		{"nfc", unicodeNormalizer{norm.NFC}, "e\u0301x", "éx", [][2]int{{0, 3}, {0, 3}, {3, 4}}},
		{"lowercase İ", lowercaseNormalizer{}, "İa", "i\u0307a", [][2]int{{0, 2}, {0, 2}, {0, 2}, {2, 3}}},
		{"bert removes a leading BOM", bertNormalizer{cleanText: true}, "\ufeffab", "ab", [][2]int{{3, 4}, {4, 5}}},
		{"prepend", prependNormalizer{"▁"}, "ab", "▁ab", [][2]int{{0, 1}, {0, 1}, {0, 1}, {0, 1}, {1, 2}}},
		{"chinese", bertNormalizer{chineseChars: true}, "a北", "a 北 ", [][2]int{{0, 1}, {1, 4}, {1, 4}, {1, 4}, {1, 4}, {1, 4}}},
	}
	for _, tc := range tests {
		got, al := normalizeWith(tc.n, tc.in)
		if got != tc.want || !reflect.DeepEqual(al, tc.align) {
			t.Errorf("%s: %q -> %q %v, want %q %v", tc.name, tc.in, got, al, tc.want, tc.align)
		}
	}
}

func TestUnicodeFormsMatchXText(t *testing.T) {
	inputs := []string{"한국어 텍스트", "école ǟ ộ", "ﬁ①Ⅳ½ ｶﾞ", "e\u0301\u0323 o\u0323\u0302", "й ё Ё", "ガギグ がぎ", "\u1100\u1161\u11a8", "abc"}
	for _, f := range []norm.Form{norm.NFC, norm.NFD, norm.NFKC, norm.NFKD} {
		for _, in := range inputs {
			got, al := normalizeWith(unicodeNormalizer{f}, in)
			if want := f.String(in); got != want {
				t.Errorf("form %v: %q -> %q, want %q", f, in, got, want)
			}
			for _, a := range al {
				if a[0] < 0 || a[1] > len(in) || a[0] > a[1] {
					t.Errorf("form %v: %q alignment %v outside the input", f, in, a)
				}
			}
		}
	}
}

func TestRunPattern(t *testing.T) {
	for pat, want := range map[string]charRun{" {2,}": {' ', 2}, "x{3,}": {'x', 3}, " +": {}, "a|b": {}, "(?i)a{2,}": {}} {
		if got := runPattern(regexp.MustCompile(pat)); got != want {
			t.Errorf("runPattern(%q) = %v, want %v", pat, got, want)
		}
	}
}

func TestInvalidUTF8(t *testing.T) {
	st := &state{}
	p, ok := lossyUTF8("a\xffb\xe2\x82c\xf0\x9f", &st.a)
	if ok || string(p.s) != "a\uFFFDb\uFFFDc\uFFFD" {
		t.Fatalf("lossy = %q", p.s)
	}
	tk := tinyBERT(t)
	e := tk.Encode("hello\xff world\xe2\x82", true)
	if want := []int{2, 5, 6, 3}; !reflect.DeepEqual(e.IDs, want) {
		t.Errorf("ids %v, want %v (U+FFFD is removed by clean_text)", e.IDs, want)
	}
	if want := [][2]int{{0, 0}, {0, 5}, {7, 12}, {0, 0}}; !reflect.DeepEqual(e.Offsets, want) {
		t.Errorf("offsets %v, want %v", e.Offsets, want)
	}
}

func TestPairTruncationPadding(t *testing.T) {
	tk := tinyBERT(t).WithTruncation(7)
	e := tk.EncodePair("hello world hello world", "unaffable", true)
	// 7 - 3 special tokens leaves 4 for 4+3 tokens; the shorter would keep
	// 3, but 3+max(3, 4-3) > 4, so longest-first splits evenly: 2 and 2.
	if want := []int{2, 5, 6, 3, 9, 10, 3}; !reflect.DeepEqual(e.IDs, want) || !e.Truncated {
		t.Errorf("pair ids %v truncated=%v, want %v", e.IDs, e.Truncated, want)
	}
	if want := []int{0, 0, 0, 0, 1, 1, 1}; !reflect.DeepEqual(e.TypeIDs, want) {
		t.Errorf("type ids %v, want %v", e.TypeIDs, want)
	}
	p := tinyBERT(t).WithPadding(&Padding{MultipleOf: 4})
	es := p.EncodeBatch([]string{"hello", "hello world !"}, true)
	if es[0].Len() != 8 || es[1].Len() != 8 {
		t.Fatalf("lengths %d %d, want 8 8", es[0].Len(), es[1].Len())
	}
	if want := []int{1, 1, 1, 0, 0, 0, 0, 0}; !reflect.DeepEqual(es[0].AttentionMask, want) {
		t.Errorf("mask %v, want %v", es[0].AttentionMask, want)
	}
	if want := []int{1, 0, 1, 1, 1, 1, 1, 1}; !reflect.DeepEqual(es[0].SpecialTokensMask, want) {
		t.Errorf("special mask %v, want %v", es[0].SpecialTokensMask, want)
	}
	if es[0].Tokens[7] != "[PAD]" || es[0].IDs[7] != 0 {
		t.Errorf("pad token %q id %d", es[0].Tokens[7], es[0].IDs[7])
	}
}

func TestDecoders(t *testing.T) {
	d := sequenceDecoder{replaceDecoder{literal: "▁", content: " "}, byteFallbackDecoder{}, fuseDecoder{}, stripDecoder{' ', 1, 0}}
	tests := []struct {
		toks []string
		want string
	}{
		{[]string{"▁a", "<0xE2>", "<0x82>", "<0xAC>", "▁b"}, "a€ b"},
		{[]string{"▁x", "<0xE2>", "<0x82>"}, "x\uFFFD\uFFFD"},
	}
	for _, tc := range tests {
		if got := strings.Join(d.decodeChain(append([]string(nil), tc.toks...)), ""); got != tc.want {
			t.Errorf("decode %q = %q, want %q", tc.toks, got, tc.want)
		}
	}
	m := metaspaceDecoder{'▁', prependAlways}
	if got := strings.Join(m.decodeChain([]string{"▁Hello", "▁world", "!"}), ""); got != "Hello world!" {
		t.Errorf("metaspace decode = %q", got)
	}
}

// byteFallbackT5 is a tiny lossless Unigram model: every byte has a piece.
func byteFallbackT5(tb testing.TB) *Tokenizer {
	tb.Helper()
	ps := []Piece{{"<pad>", 0}, {"</s>", 0}, {"<unk>", 0}}
	for b := 0; b < 256; b++ {
		ps = append(ps, Piece{fmt.Sprintf("<0x%02X>", b), 0})
	}
	for i, p := range []string{"▁", "▁the", "▁a", "e", "t", "h", "a", "s", "▁hello", "llo", "ки", "▁при", "国"} {
		ps = append(ps, Piece{p, -1 - float64(i)/4})
	}
	var b bytes.Buffer
	if err := WriteUnigramJSON(&b, ps, UnigramOptions{ByteFallback: true}); err != nil {
		tb.Fatal(err)
	}
	tk, err := Load(&b)
	if err != nil {
		tb.Fatal(err)
	}
	return tk
}

func TestByteFallbackRoundTrip(t *testing.T) {
	tk := byteFallbackT5(t)
	for _, s := range []string{"the hello", "при вет 国家 ✓", "  a  b ", ""} {
		e := tk.Encode(s, false)
		want, _ := normalizeWith(tk.normalizer, s)
		if got := tk.Decode(e.IDs, true); got != want {
			t.Errorf("decode(encode(%q)) = %q, want %q (%q)", s, got, want, e.Tokens)
		}
	}
}
