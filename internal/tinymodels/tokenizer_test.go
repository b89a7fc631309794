package tinymodels

import (
	"path/filepath"
	"testing"

	"github.com/xqg/xqg/vectorizer/tokenizer"
)

var multilingual = []struct{ lang, text string }{
	{"en", "Generate a Japanese question for this passage: The river is the longest in the world."},
	{"ar", "ما هي عاصمة مصر"},
	{"bn", "বাংলাদেশের রাজধানী কোথায়"},
	{"fi", "Mikä on Suomen pääkaupunki"},
	{"ja", "日本の首都はどこですか"},
	{"ko", "한국의 수도는 어디입니까"},
	{"ru", "Какая самая длинная река в мире"},
	{"te", "భారతదేశ రాజధాని ఏది"},
}

func TestTinyTokenizersCoverLanguages(t *testing.T) {
	dir := t.TempDir()
	if err := writeBertTokenizerFiles(dir, wordPieceVocab(), 512); err != nil {
		t.Fatal(err)
	}
	s2s := filepath.Join(dir, "s2s")
	if err := writeT5TokenizerFilesDir(s2s); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		path  string
		unk   int
		vocab int
		last  int // id every encoding must end with
	}{
		{"wordpiece", filepath.Join(dir, "tokenizer.json"), BertUNKID, len(wordPieceVocab()), BertSEPID},
		{"unigram", filepath.Join(s2s, "tokenizer.json"), T5UNKID, len(unigramVocab()), T5EOSID},
	}
	for _, c := range cases {
		tok, err := tokenizer.LoadFile(c.path)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if tok.VocabSize() != c.vocab {
			t.Errorf("%s: vocab %d, want %d", c.name, tok.VocabSize(), c.vocab)
		}
		for _, m := range multilingual {
			enc := tok.Encode(m.text, true)
			unk := 0
			for _, id := range enc.IDs {
				if id == c.unk {
					unk++
				}
				if id < 0 || id >= c.vocab {
					t.Errorf("%s %s: id %d outside the vocabulary", c.name, m.lang, id)
				}
			}
			if n := len(enc.IDs); n < 3 || unk*5 > n || enc.IDs[n-1] != c.last {
				t.Errorf("%s %s: %d tokens, %d unknown: %v", c.name, m.lang, n, unk, enc.Tokens)
			}
		}
	}
}
