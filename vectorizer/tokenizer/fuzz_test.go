package tokenizer

import (
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzEncode: encoding never panics, offsets stay within the input, ids
// within the vocabulary, and the lossless byte-fallback model decodes back
// to the normalized text.
func FuzzEncode(f *testing.F) {
	for _, s := range []string{"", " ", "Hello, world!", "\ufeffBOM", "a\u200db\u200cc", "e\u0301\u0323", "北京 [SEP] x",
		"\xff\xfe invalid \xe2\x82", "tab\tcr\r\n", strings.Repeat("a", 200), "한국어 テスト ру́сский", "👩\u200d👩\u200d👧", "<0xE2>▁▁x"} {
		f.Add(s)
	}
	toks := []*Tokenizer{tinyBERT(f), tinyT5(f), byteFallbackT5(f)}
	// The real models from the fixtures when they are there (fuzzing must
	// also work without them).
	d := filepathOrEmpty()
	for _, name := range []string{"multi8k.model", "bert-base-uncased.json", "multi8k.json"} {
		if d == "" {
			break
		}
		if tk, err := LoadFile(filepath.Join(d, name)); err == nil {
			toks = append(toks, tk)
		}
	}
	lossless := toks[2]
	f.Fuzz(func(t *testing.T, s string) {
		for _, tk := range toks {
			for _, e := range []*Encoding{tk.Encode(s, true), tk.EncodePair(s, s, true)} {
				for i, id := range e.IDs {
					if id < 0 || id >= tk.VocabSize() {
						t.Fatalf("%q: id %d outside the vocabulary of %d", s, id, tk.VocabSize())
					}
					o := e.Offsets[i]
					if o[0] < 0 || o[1] > len(s) || o[0] > o[1] {
						t.Fatalf("%q: offsets %v outside [0,%d]", s, o, len(s))
					}
				}
			}
			tk.Decode(tk.Encode(s, true).IDs, false)
		}
		// Literal "<0xNN>" text matches the byte pieces themselves (as in
		// Hugging Face), so only other text is lossless.
		if !utf8.ValidString(s) || strings.Contains(s, "<0x") {
			return
		}
		want, _ := normalizeWith(lossless.normalizer, s)
		if got := lossless.Decode(lossless.Encode(s, false).IDs, true); got != strings.TrimPrefix(strings.ReplaceAll(want, "▁", " "), " ") &&
			got != strings.ReplaceAll(want, "▁", " ") {
			t.Fatalf("decode(encode(%q)) = %q, normalized %q", s, got, want)
		}
	})
}
