package eval

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/xqg/xqg/eval/internal/pyref"
)

func TestLoadXORJSONLRealDev(t *testing.T) {
	dir := pyref.DataDir(t)
	qs, err := LoadXORJSONL(filepath.Join(dir, "xor-tydi", "xor_dev_retrieve_eng_span_v1_1.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	// Counts from shared/data/README.md.
	want := map[string]int{"ar": 350, "bn": 312, "fi": 360, "ja": 296, "ko": 299, "ru": 255, "te": 238}
	got := map[string]int{}
	for _, q := range qs {
		got[q.Lang]++
		if q.Text == "" {
			t.Errorf("%s: empty question", q.ID)
		}
	}
	if len(qs) != 2110 {
		t.Errorf("%d questions, want 2110", len(qs))
	}
	for l, n := range want {
		if got[l] != n {
			t.Errorf("%s: %d questions, want %d", l, got[l], n)
		}
	}
}

func TestReadXORJSONLErrors(t *testing.T) {
	cases := map[string]string{
		"{\"id\":\"1\",\"question\":\"q\",\"lang\":\"fi\"}\nnot json\n":                                        "x.jsonl:2",
		"{\"question\":\"q\",\"lang\":\"fi\"}\n":                                                               `x.jsonl:1: missing "id"`,
		"{\"id\":\"1\",\"lang\":\"fi\"}\n":                                                                     `missing "question"`,
		"{\"id\":\"1\",\"question\":\"q\"}\n":                                                                  `missing "lang"`,
		"{\"id\":\"1\",\"question\":\"q\",\"lang\":\"fi\"}\n{\"id\":\"1\",\"question\":\"q\",\"lang\":\"fi\"}": "already on line 1",
		"{\"id\":\"1\",\"question\":\"q\",\"lang\":\"fi\",\"answers\":\"x\"}\n":                                "x.jsonl:1",
	}
	for in, want := range cases {
		_, err := ReadXORJSONL(strings.NewReader(in), "x.jsonl")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err = %v, want %q", in, err, want)
		}
	}
	qs, err := ReadXORJSONL(strings.NewReader("\n{\"id\":\"1\",\"question\":\"q\",\"lang\":\"fi\"}"), "x")
	if err != nil || len(qs) != 1 || qs[0].Answers == nil {
		t.Errorf("no trailing newline, no answers: %+v %v", qs, err)
	}
}

func TestReadDPRTSV(t *testing.T) {
	// psgs_w100.tsv style: header, Python-csv quoting (a field with a quote
	// is wrapped in quotes and inner quotes doubled), a bare quote inside an
	// unquoted field, an embedded newline in a quoted field.
	in := "id\ttext\ttitle\n" +
		"1\t\"Aaron is a \"\"prophet\"\" in the Bible\"\tAaron\n" +
		"2\tHe said 5\" of rain\tRain\n" +
		"3\t\"line one\nline two\"\t\"Title, with comma\"\n"
	var got []Passage
	err := ReadDPRTSV(strings.NewReader(in), "psgs.tsv", func(p Passage) error { got = append(got, p); return nil })
	if err != nil {
		t.Fatal(err)
	}
	want := []Passage{
		{ID: "1", Text: `Aaron is a "prophet" in the Bible`, Title: "Aaron"},
		{ID: "2", Text: `He said 5" of rain`, Title: "Rain"},
		{ID: "3", Text: "line one\nline two", Title: "Title, with comma"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d passages: %+v", len(got), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
	err = ReadDPRTSV(strings.NewReader("id\ttext\ttitle\n1\tonly two\n"), "psgs.tsv", func(Passage) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "psgs.tsv:2: want 3") {
		t.Errorf("two fields: err = %v", err)
	}
}

func TestLoadXQuAD(t *testing.T) {
	dir := filepath.Join(pyref.DataDir(t), "xquad")
	en, err := LoadXQuAD(dir, "en")
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range []string{"ru", "ar", "zh"} {
		d, err := LoadXQuAD(dir, lang)
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Corpus) != 240 || len(d.Queries) != 1190 {
			t.Fatalf("%s: %d paragraphs, %d questions; want 240, 1190", lang, len(d.Corpus), len(d.Queries))
		}
		for i, q := range d.Queries {
			if q.ID != en.Queries[i].ID || q.Text == en.Queries[i].Text || len(q.Answers) == 0 {
				t.Fatalf("%s query %d: %+v not aligned with en %+v", lang, i, q, en.Queries[i])
			}
		}
	}
	if en.Corpus[0].ID != "0_0" || en.Corpus[0].Title != "Super Bowl 50" {
		t.Errorf("first paragraph %+v", en.Corpus[0])
	}
	// Relevance by position: the gold paragraph contains the English answer;
	// 264 answers also occur in another paragraph (shared/data/README.md).
	text := map[string]string{}
	for _, p := range en.Corpus {
		text[p.ID] = p.Text
	}
	elsewhere := 0
	for _, q := range en.Queries {
		for id := range q.Relevant {
			if !strings.Contains(text[id], q.Answers[0]) {
				t.Errorf("%s: answer %q not in its paragraph %s", q.ID, q.Answers[0], id)
			}
		}
		for _, p := range en.Corpus {
			if q.Relevant[p.ID] == 0 && strings.Contains(p.Text, q.Answers[0]) {
				elsewhere++
				break
			}
		}
	}
	if elsewhere != 264 {
		t.Errorf("%d answers occur in another paragraph, want 264", elsewhere)
	}
	if _, err := LoadXQuAD(dir, "xx"); err == nil || !strings.Contains(err.Error(), "xquad.xx.json") {
		t.Errorf("missing language: err = %v", err)
	}
}

func TestLoadNTREX(t *testing.T) {
	dir := filepath.Join(pyref.DataDir(t), "ntrex-128")
	for _, lang := range []string{"ar", "bn", "fi", "ja", "ko", "ru", "te"} {
		d, err := LoadNTREX(dir, lang, false)
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Corpus) != 1997 || len(d.Queries) != 1997 {
			t.Errorf("%s: %d/%d, want 1997", lang, len(d.Corpus), len(d.Queries))
		}
	}
	d, err := LoadNTREX(dir, "fi", true)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Corpus) != 123 || len(d.Queries) != 1997 {
		t.Fatalf("docs: %d documents, %d queries; want 123, 1997", len(d.Corpus), len(d.Queries))
	}
	sents, _ := LoadNTREX(dir, "fi", false)
	// Every English sentence lies in the document its query points to.
	doc := map[string]string{}
	for _, p := range d.Corpus {
		doc[p.ID] = p.Text
	}
	for i, q := range d.Queries {
		for id := range q.Relevant {
			if !strings.Contains(doc[id], sents.Corpus[i].Text) {
				t.Fatalf("query %d: sentence not in document %s", i, id)
			}
		}
	}
	if _, err := LoadNTREX(dir, "xx", false); err == nil {
		t.Error("unknown language: want error")
	}
}

func TestLoadTatoeba(t *testing.T) {
	dir := filepath.Join(pyref.DataDir(t), "tatoeba")
	want := map[string]int{"ar": 1000, "bn": 1000, "fi": 1000, "ja": 1000, "ko": 1000, "ru": 1000, "te": 234}
	for lang, n := range want {
		d, err := LoadTatoeba(dir, lang)
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Corpus) != n || len(d.Queries) != n {
			t.Errorf("%s: %d/%d pairs, want %d", lang, len(d.Corpus), len(d.Queries), n)
		}
		q := d.Queries[n-1]
		if q.Relevant[d.Corpus[n-1].ID] != 1 || q.Text == d.Corpus[n-1].Text {
			t.Errorf("%s: last pair not aligned: %+v %+v", lang, q, d.Corpus[n-1])
		}
	}
}
