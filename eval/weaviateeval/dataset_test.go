package weaviateeval

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/xqg/xqg/eval"
	"github.com/xqg/xqg/internal/testenv"
)

func TestLimit(t *testing.T) {
	d := &eval.Dataset{Name: "x", Corpus: []eval.Passage{{ID: "a"}, {ID: "b"}, {ID: "c"}}, Queries: []eval.Query{
		{ID: "1", Lang: "ar", Relevant: map[string]int{"a": 1}},
		{ID: "2", Lang: "ar", Relevant: map[string]int{"c": 1}},
		{ID: "3", Lang: "ar", Relevant: map[string]int{"b": 1}},
		{ID: "4", Lang: "ru", Relevant: map[string]int{"a": 1, "c": 1}},
		{ID: "5", Lang: "ru", Relevant: map[string]int{"b": 1}},
	}}
	cases := []struct {
		passages, queries int
		want              string
		corpus            int
	}{
		{0, 0, "1,2,3,4,5", 3},
		{2, 0, "1,3,5", 2},
		{2, 1, "1,5", 2},
		{0, 1, "1,4", 3},
		{9, 0, "1,2,3,4,5", 3},
	}
	for _, c := range cases {
		got := Limit(d, c.passages, c.queries)
		var ids []string
		for _, q := range got.Queries {
			ids = append(ids, q.ID)
		}
		if strings.Join(ids, ",") != c.want || len(got.Corpus) != c.corpus {
			t.Errorf("Limit(%d, %d) = %v with %d passages, want %s with %d", c.passages, c.queries, ids, len(got.Corpus), c.want, c.corpus)
		}
	}
}

func TestLoadDataset(t *testing.T) {
	data := testenv.SharedData(t)
	cases := []struct {
		src               Source
		langs             string
		corpus, queries   int
		firstID, firstRel string
	}{
		{Source{Kind: XQuAD, Dir: filepath.Join(data, "xquad"), Langs: []string{"ar", "ru"}}, "ar,ru", 240, 2 * 1190, "56beb4343aeaaa14008c925b/ar", "0_0"},
		{Source{Kind: NTREX, Dir: filepath.Join(data, "ntrex-128"), Langs: []string{"fi"}}, "fi", 1997, 1997, "ntrex-fi-0", "ntrex-0"},
		{Source{Kind: Tatoeba, Dir: filepath.Join(data, "tatoeba"), Langs: []string{"te", "fi"}}, "fi,te", 234 + 1000, 234 + 1000, "tatoeba-te-q0", "tatoeba-tel-0"},
		{Source{Kind: XOR, Queries: filepath.Join(data, "xor-tydi", "xor_dev_retrieve_eng_span_v1_1.jsonl"), Langs: []string{"te"}}, "te", 0, 238, "", ""},
	}
	for _, c := range cases {
		d, err := LoadDataset(c.src)
		if err != nil {
			t.Fatalf("%s: %v", c.src.Kind, err)
		}
		langs := map[string]bool{}
		ids := map[string]bool{}
		for _, q := range d.Queries {
			langs[q.Lang] = true
			if ids[q.ID] {
				t.Fatalf("%s: duplicate query id %s", c.src.Kind, q.ID)
			}
			ids[q.ID] = true
		}
		if len(d.Corpus) != c.corpus || len(d.Queries) != c.queries || len(langs) != len(strings.Split(c.langs, ",")) {
			t.Errorf("%s: %d passages, %d queries, langs %v", c.src.Kind, len(d.Corpus), len(d.Queries), langs)
		}
		if c.firstID != "" {
			q := d.Queries[0]
			if q.ID != c.firstID || q.Relevant[c.firstRel] != 1 {
				t.Errorf("%s: first query %s relevant %v, want %s relevant %s", c.src.Kind, q.ID, q.Relevant, c.firstID, c.firstRel)
			}
		}
	}
	for _, bad := range []Source{{Kind: "squad"}, {Kind: XQuAD, Dir: "/nonexistent"}, {Kind: XOR}, {Kind: XQuAD, Dir: filepath.Join(data, "xquad"), Langs: []string{"xx"}}} {
		if _, err := LoadDataset(bad); err == nil {
			t.Errorf("LoadDataset(%+v) succeeded", bad)
		}
	}
}
