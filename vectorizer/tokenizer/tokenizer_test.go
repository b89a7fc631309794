package tokenizer

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

func tinyBERT(t testing.TB) *Tokenizer {
	t.Helper()
	vocab := []string{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world", ",", "!", "un", "##aff", "##able", "北", "京", "cafe", "##s"}
	var b bytes.Buffer
	if err := WriteWordPieceJSON(&b, vocab); err != nil {
		t.Fatal(err)
	}
	tk, err := Load(&b)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func tinyT5(t testing.TB) *Tokenizer {
	t.Helper()
	pieces := []Piece{{"<pad>", 0}, {"</s>", 0}, {"<unk>", 0}, {"▁", -2}, {"▁he", -3}, {"llo", -3},
		{"l", -4}, {"o", -4}, {"h", -5}, {"e", -5}, {"▁hello", -5.5}, {"▁w", -4}, {"or", -4}, {"ld", -4}, {"▁world", -9}}
	var b bytes.Buffer
	if err := WriteUnigramJSON(&b, pieces); err != nil {
		t.Fatal(err)
	}
	tk, err := Load(&b)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func TestTinyWordPiece(t *testing.T) {
	tk := tinyBERT(t)
	tests := []struct {
		in      string
		special bool
		ids     []int
		offsets [][2]int
	}{
		{"Hello, world!", true, []int{2, 5, 7, 6, 8, 3}, [][2]int{{0, 0}, {0, 5}, {5, 6}, {7, 12}, {12, 13}, {0, 0}}},
		{"unaffable", false, []int{9, 10, 11}, [][2]int{{0, 2}, {2, 5}, {5, 9}}},
		{"unknownword", false, []int{1}, [][2]int{{0, 11}}},
		{"Cafés 北京", false, []int{14, 15, 12, 13}, [][2]int{{0, 5}, {5, 6}, {7, 10}, {10, 13}}},
		{"hello [SEP] world", false, []int{5, 3, 6}, [][2]int{{0, 5}, {6, 11}, {12, 17}}},
		{"", true, []int{2, 3}, [][2]int{{0, 0}, {0, 0}}},
	}
	for _, tc := range tests {
		e := tk.Encode(tc.in, tc.special)
		if !reflect.DeepEqual(e.IDs, tc.ids) || !reflect.DeepEqual(e.Offsets, tc.offsets) {
			t.Errorf("Encode(%q) = %v %v, want %v %v", tc.in, e.IDs, e.Offsets, tc.ids, tc.offsets)
		}
	}
	if got := tk.Decode([]int{2, 5, 7, 6, 8, 9, 10, 11, 3}, true); got != "hello, world! unaffable" {
		t.Errorf("Decode = %q", got)
	}
}

func TestTinyUnigram(t *testing.T) {
	tk := tinyT5(t)
	tests := []struct {
		in     string
		ids    []int
		tokens []string
	}{
		{"hello", []int{10, 1}, []string{"▁hello", "</s>"}},
		// ▁world (-9) beats ▁w or ld (-12).
		{"  hello   world ", []int{10, 14, 1}, []string{"▁hello", "▁world", "</s>"}},
		{"hellx", []int{4, 6, 6, 2, 1}, []string{"▁he", "l", "l", "x", "</s>"}},
		{"", []int{1}, []string{"</s>"}},
	}
	for _, tc := range tests {
		e := tk.Encode(tc.in, true)
		if !reflect.DeepEqual(e.IDs, tc.ids) || !reflect.DeepEqual(e.Tokens, tc.tokens) {
			t.Errorf("Encode(%q) = %v %q, want %v %q", tc.in, e.IDs, e.Tokens, tc.ids, tc.tokens)
		}
	}
	if got := tk.Decode([]int{10, 11, 12, 13, 1}, true); got != "hello world" {
		t.Errorf("Decode = %q", got)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct{ json, want string }{
		{`{"model":{"type":"WordPiece","vocab":{"[UNK]":0}},"normalizer":{"type":"Sequence","normalizers":[{"type":"NFC"},{"type":"Lowercase"},{"type":"Foo"}]}}`,
			`normalizer.normalizers[2].type: unsupported "Foo"`},
		{`{"model":{"type":"BPE","vocab":{},"merges":[]}}`, `model.type: unsupported "BPE"`},
		{`{"normalizer":null}`, `model: missing`},
		{`{"model":{"type":"Unigram","vocab":[["a",-1],["b","x"]],"unk_id":0}}`, `model.vocab[1][1]: expected a number, got a string`},
		{`{"model":{"type":"WordPiece","vocab":{"a":0}}}`, `unk_token "[UNK]" is not in the vocabulary`},
		{`{"model":{"type":"WordPiece","vocab":{"[UNK]":0}},"pre_tokenizer":{"type":"Split","pattern":{"Regex":"(?<=a)b"},"behavior":"Isolated"}}`, `pre_tokenizer.pattern.Regex: unsupported regular expression`},
		{`{"model":{"type":"WordPiece","vocab":{"[UNK]":0}},"decoder":{"type":"ByteLevel"}}`, `decoder.type: unsupported "ByteLevel"`},
		{`{"model":`, `invalid JSON`},
	}
	for _, tc := range tests {
		_, err := Load(strings.NewReader(tc.json))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Load(%s) error = %v, want it to contain %q", tc.json, err, tc.want)
		}
	}
}
