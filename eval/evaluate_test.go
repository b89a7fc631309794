package eval

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"unicode"

	"github.com/xqg/xqg/eval/internal/pyref"
)

// termRetriever is a small real retriever (TF-IDF cosine over lower-cased
// words) so the evaluation pipeline runs end to end without Weaviate. Its
// "title" target indexes title+text, "text" the text alone.
type termRetriever struct {
	corpus []Passage
	idf    map[string]float64
	vecs   map[string][]map[string]float64
	fail   string
}

func words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsNumber(r) })
}

func newTermRetriever(corpus []Passage) *termRetriever {
	tr := &termRetriever{corpus: corpus, idf: map[string]float64{}, vecs: map[string][]map[string]float64{}}
	df := map[string]int{}
	for _, p := range corpus {
		seen := map[string]bool{}
		for _, w := range words(p.Title + " " + p.Text) {
			if !seen[w] {
				seen[w] = true
				df[w]++
			}
		}
	}
	for w, n := range df {
		tr.idf[w] = math.Log(float64(len(corpus)+1) / float64(n))
	}
	for _, p := range corpus {
		tr.vecs["title"] = append(tr.vecs["title"], tr.vec(p.Title+" "+p.Text))
		tr.vecs["text"] = append(tr.vecs["text"], tr.vec(p.Text))
	}
	return tr
}

func (tr *termRetriever) vec(s string) map[string]float64 {
	v := map[string]float64{}
	for _, w := range words(s) {
		v[w] += tr.idf[w]
	}
	n := 0.0
	for _, x := range v {
		n += x * x
	}
	for w := range v {
		v[w] /= math.Sqrt(n)
	}
	return v
}

func (tr *termRetriever) Search(ctx context.Context, target, query string, k int) ([]Hit, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if target == tr.fail {
		return nil, errors.New("backend down")
	}
	vs, ok := tr.vecs[target]
	if !ok {
		return nil, fmt.Errorf("unknown target %q", target)
	}
	q := tr.vec(query)
	type sc struct {
		i int
		s float64
	}
	scores := make([]sc, len(vs))
	for i, v := range vs {
		s := 0.0
		for w, x := range q {
			s += x * v[w]
		}
		scores[i] = sc{i, s}
	}
	sort.SliceStable(scores, func(a, b int) bool { return scores[a].s > scores[b].s })
	var hits []Hit
	for _, s := range scores[:min(k, len(scores))] {
		p := tr.corpus[s.i]
		hits = append(hits, Hit{ID: p.ID, Title: p.Title, Text: p.Text, Distance: 1 - s.s})
	}
	return hits, nil
}

func TestEvaluateXQuADEndToEnd(t *testing.T) {
	ds, err := LoadXQuAD(filepath.Join(pyref.DataDir(t), "xquad"), "en")
	if err != nil {
		t.Fatal(err)
	}
	// Spread the 1190 questions over two pseudo-languages to exercise the
	// per-language tables, and keep a third of them for speed.
	var qs []Query
	for i, q := range ds.Queries {
		if i%3 == 0 {
			q.Lang = []string{"fi", "ru"}[i%2]
			qs = append(qs, q)
		}
	}
	r := newTermRetriever(ds.Corpus)
	cfg := Config{Targets: []string{"title", "text"}, K: 20, PermRounds: 2000, Seed: 1, Workers: 2}
	rep, err := Evaluate(context.Background(), r, ds.Name, qs, cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"R@2kt", "R@5kt", "Recall@1", "Recall@5", "Recall@10", "Recall@100", "MRR@10", "nDCG@10"}
	if fmt.Sprint(rep.Metrics) != fmt.Sprint(want) {
		t.Fatalf("metrics %v, want %v", rep.Metrics, want)
	}
	for _, tr := range rep.Targets {
		r10, r1 := tr.Macro["Recall@10"], tr.Macro["Recall@1"]
		// Lexical retrieval of SQuAD questions finds most gold paragraphs.
		if r10 < 50 || r1 > r10 || tr.Macro["R@5kt"] < tr.Macro["R@2kt"] || tr.Macro["MRR@10"] > r10 {
			t.Errorf("%s: implausible scores %v", tr.Target, tr.Macro)
		}
		if tr.Count["Recall@10"]["fi"]+tr.Count["Recall@10"]["ru"] != len(qs) {
			t.Errorf("%s: counts %v", tr.Target, tr.Count["Recall@10"])
		}
		if len(rep.Runs[tr.Target]) != len(qs) || len(rep.Runs[tr.Target][0].Ctxs) != 20 {
			t.Errorf("%s: run has %d entries", tr.Target, len(rep.Runs[tr.Target]))
		}
		t.Logf("%s: %v", tr.Target, tr.Macro)
	}
	if len(rep.Significance) != len(want) {
		t.Fatalf("%d comparisons", len(rep.Significance))
	}
	for _, c := range rep.Significance {
		if c.TTest.P < 0 || c.TTest.P > 1 || c.Perm.P <= 0 || c.Perm.P > 1 || c.TTest.N != len(qs) {
			t.Errorf("%s: bad test %+v", c.Metric, c)
		}
	}
	md := rep.Markdown()
	for _, s := range []string{"### R@2kt", "| fi |", "**macro**", "Paired significance"} {
		if !strings.Contains(md, s) {
			t.Errorf("markdown lacks %q:\n%s", s, md)
		}
	}
	// The run the report carries scores the same through the run-file path.
	x := NewXORScorer(nil).Score(rep.Runs["title"], ds.Answers(), []int{2000}, 2)
	if x[0].Macro != rep.Targets[0].Macro["R@2kt"] {
		t.Errorf("rescored run %.4f != report %.4f", x[0].Macro, rep.Targets[0].Macro["R@2kt"])
	}
}

func TestEvaluateErrors(t *testing.T) {
	corpus := []Passage{{ID: "a", Text: "alpha"}, {ID: "b", Text: "beta"}}
	qs := []Query{{ID: "1", Text: "alpha", Lang: "fi", Relevant: map[string]int{"a": 1}}}
	r := newTermRetriever(corpus)
	r.fail = "text"
	_, err := Evaluate(context.Background(), r, "x", qs, Config{Targets: []string{"title", "text"}})
	if err == nil || !strings.Contains(err.Error(), "target text, query 1") {
		t.Errorf("failing target: err = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Evaluate(ctx, r, "x", qs, Config{Targets: []string{"title"}}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err = %v", err)
	}
	if _, err := Evaluate(context.Background(), r, "x", qs, Config{}); err == nil {
		t.Error("no targets: want error")
	}
}
