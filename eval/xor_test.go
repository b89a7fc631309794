package eval

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xqg/xqg/eval/internal/pyref"
)

func TestXORHitHandCases(t *testing.T) {
	s := NewXORScorer(nil)
	ctxs := []string{"The capital of France is Paris.", "Berlin is in Germany, isn't it?"}
	cases := []struct {
		name    string
		answers []string
		max     int
		want    bool
	}{
		{"plain", []string{"Paris"}, 2000, true},
		{"case-sensitive", []string{"paris"}, 2000, false},
		{"cut before answer", []string{"Paris"}, 5, false},
		{"cut just after", []string{"Paris"}, 6, true},
		{"period split off by the tokenizer", []string{"Paris."}, 2000, false},
		{"space-joined tokens", []string{"is Paris ."}, 2000, true},
		{"second passage", []string{"Germany"}, 2000, true},
		{"comma split", []string{"Germany,"}, 2000, false},
		{"contraction split", []string{"is n't"}, 2000, true},
		{"across passages", []string{". Berlin"}, 2000, true},
		{"any answer", []string{"Rome", "Berlin"}, 2000, true},
	}
	for _, c := range cases {
		if got := s.Hit(ctxs, c.answers, c.max); got != c.want {
			t.Errorf("%s: Hit(%q, max %d) = %v, want %v", c.name, c.answers, c.max, got, c.want)
		}
	}
}

func TestXORScoreSemantics(t *testing.T) {
	run := []RunEntry{
		{ID: "q1", Lang: "fi", Ctxs: []string{"Helsinki is the capital."}},
		{ID: "q2", Lang: "fi", Ctxs: []string{"Nothing here."}},
		{ID: "q3", Lang: "fi", Ctxs: []string{"yes"}},                 // yes/no only: skipped
		{ID: "q4", Lang: "ja", Ctxs: []string{"Tokyo"}},               // no answers: skipped, ja dropped
		{ID: "q5", Lang: "ru", Ctxs: []string{"Moscow and no other"}}, // "no" dropped, Moscow hits
		{ID: "q1", Lang: "fi", Ctxs: []string{"Helsinki again"}},      // duplicate counts again
	}
	answers := map[string][]string{
		"q1": {"Helsinki"}, "q2": {"Turku"}, "q3": {"yes", "no"}, "q5": {"no", "Moscow"},
	}
	res := NewXORScorer(nil).Score(run, answers, []int{2000}, 2)
	if len(res) != 1 {
		t.Fatalf("%d results", len(res))
	}
	r := res[0]
	if got := fmt.Sprint(r.Langs); got != "[fi ru]" {
		t.Errorf("langs = %s, want [fi ru]", got)
	}
	if r.PerLang["fi"] != (LangCount{Count: 3, Hit: 2}) || r.PerLang["ru"] != (LangCount{Count: 1, Hit: 1}) {
		t.Errorf("per lang = %+v", r.PerLang)
	}
	if want := (200.0/3 + 100) / 2; !near(r.Macro, want, 1e-9) {
		t.Errorf("macro = %v, want %v", r.Macro, want)
	}
	if fmt.Sprint(r.PerQuery) != "[1 0 1 1]" {
		t.Errorf("per query = %v", r.PerQuery)
	}
}

// buildRun makes a run over real texts with a mix of hits and misses: XQuAD
// Russian questions whose gold English paragraph sits at a rank derived
// from the question id among other paragraphs, plus XOR-TyDi dev questions
// with real answers over the same pool.
func buildRun(t *testing.T) ([]RunEntry, []Query) {
	dir := pyref.DataDir(t)
	ds, err := LoadXQuAD(filepath.Join(dir, "xquad"), "ru")
	if err != nil {
		t.Fatal(err)
	}
	xor, err := LoadXORJSONL(filepath.Join(dir, "xor-tydi", "xor_dev_retrieve_eng_span_v1_1.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	h := func(s string) int { f := fnv.New32a(); f.Write([]byte(s)); return int(f.Sum32() & 0x7fffffff) }
	pool := ds.Corpus
	langs := []string{"ar", "bn", "fi", "ja", "ko", "ru", "te"}
	var run []RunEntry
	var qs []Query
	for i, q := range ds.Queries {
		if i%8 != 0 {
			continue
		}
		gold := h(q.ID) % 30
		var ctxs []string
		for r := 0; r < 40; r++ {
			p := pool[(h(q.ID)+r*37)%len(pool)]
			if r == gold {
				p = pool[idxOf(pool, q.Relevant)]
			}
			ctxs = append(ctxs, p.Text)
		}
		lang := langs[i%len(langs)]
		run = append(run, RunEntry{ID: q.ID, Lang: lang, Ctxs: ctxs})
		qs = append(qs, Query{ID: q.ID, Text: q.Text, Lang: lang, Answers: q.Answers})
	}
	for i, q := range xor {
		if i%12 != 0 {
			continue
		}
		var ctxs []string
		for r := 0; r < 40; r++ {
			ctxs = append(ctxs, pool[(h(q.ID)+r*53)%len(pool)].Text)
		}
		run = append(run, RunEntry{ID: q.ID, Lang: q.Lang, Ctxs: ctxs})
		qs = append(qs, q)
	}
	// yes/no and unknown ids exercise the skipping rules.
	run = append(run, RunEntry{ID: "yesno", Lang: "fi", Ctxs: []string{"yes"}}, RunEntry{ID: "unknown", Lang: "xx", Ctxs: []string{"x"}})
	qs = append(qs, Query{ID: "yesno", Lang: "fi", Answers: []string{"yes", "no"}})
	return run, qs
}

func idxOf(pool []Passage, rel map[string]int) int {
	for i, p := range pool {
		if rel[p.ID] > 0 {
			return i
		}
	}
	return 0
}

func TestXORScoreMatchesOfficialLogic(t *testing.T) {
	pyref.Require(t)
	run, qs := buildRun(t)
	tmp := t.TempDir()
	runPath := filepath.Join(tmp, "run.json")
	ansPath := filepath.Join(tmp, "answers.jsonl")
	var rb bytes.Buffer
	if err := WriteRun(&rb, run); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(runPath, rb.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	var ab bytes.Buffer
	for _, q := range qs {
		line, _ := json.Marshal(map[string]any{"id": q.ID, "question": q.Text, "answers": q.Answers, "lang": q.Lang})
		ab.Write(append(line, '\n'))
	}
	if err := os.WriteFile(ansPath, ab.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	cuts := []int{100, 2000, 5000}
	out := pyref.Run(t, nil, "score", "--data_file", ansPath, "--pred_file", runPath,
		"--max_token_num", "100", "--max_token_num", "2000", "--max_token_num", "5000")
	var want map[string]map[string]LangCount
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	loaded, err := LoadRun(runPath)
	if err != nil {
		t.Fatal(err)
	}
	answers, err := LoadXORJSONL(ansPath)
	if err != nil {
		t.Fatal(err)
	}
	am := map[string][]string{}
	for _, q := range answers {
		am[q.ID] = q.Answers
	}
	got := NewXORScorer(nil).Score(loaded, am, cuts, 2)
	for i, n := range cuts {
		w := want[fmt.Sprint(n)]
		g := got[i].PerLang
		if len(w) != len(g) {
			t.Errorf("max %d: langs %v vs python %v", n, g, w)
		}
		hits := 0
		for l, wc := range w {
			if g[l] != wc {
				t.Errorf("max %d lang %s: go %+v, python %+v", n, l, g[l], wc)
			}
			hits += wc.Hit
		}
		t.Logf("R@%d: macro %.2f over %v (%d hits)", n, got[i].Macro, got[i].Langs, hits)
		if hits == 0 || hits == len(got[i].PerQuery) {
			t.Errorf("max %d: %d hits of %d: the run does not separate hits from misses", n, hits, len(got[i].PerQuery))
		}
	}
	if got[0].Macro >= got[2].Macro {
		t.Errorf("R@100 %.2f should be below R@5000 %.2f", got[0].Macro, got[2].Macro)
	}
}

func TestReadRunErrors(t *testing.T) {
	cases := map[string]string{
		`{"id":"x"}`:                                      "JSON array",
		`[{"lang":"fi","ctxs":[]}]`:                       `[0]: missing "id"`,
		`[{"id":"a","ctxs":[]}]`:                          `missing "lang"`,
		`[{"id":"a","lang":"fi"}]`:                        `missing "ctxs"`,
		`[{"id":"a","lang":"fi","ctxs":[3]}]`:             `[0].ctxs[0] (id a)`,
		`[{"id":"a","lang":"fi","ctxs":[{"title":"t"}]}]`: `without a string "text"`,
	}
	for in, want := range cases {
		_, err := ReadRun(strings.NewReader(in), "run.json")
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "run.json") {
			t.Errorf("%s: err = %v, want one containing %q", in, err, want)
		}
	}
	run, err := ReadRun(strings.NewReader(`[{"id":"a","lang":"fi","ctxs":["p1",{"id":"9","title":"T","text":"p2"}]}]`), "run.json")
	if err != nil || len(run) != 1 || fmt.Sprint(run[0].Ctxs) != "[p1 p2]" {
		t.Errorf("mixed ctxs: %v %v", run, err)
	}
	var b bytes.Buffer
	if err := WriteRun(&b, run); err != nil {
		t.Fatal(err)
	}
	back, err := ReadRun(&b, "roundtrip")
	if err != nil || fmt.Sprint(back) != fmt.Sprint(run) {
		t.Errorf("round trip: %v %v", back, err)
	}
}
