package eval

import (
	"context"
	"fmt"
	"sort"
	"sync"
)

// Metric names used in reports.
const (
	MetricR2kt = "R@2kt"
	MetricR5kt = "R@5kt"
	MetricMRR  = "MRR@10"
	MetricNDCG = "nDCG@10"
)

// RecallName is the report name of Recall@k.
func RecallName(k int) string { return fmt.Sprintf("Recall@%d", k) }

// RktName is the report name of R@kt for a token cut-off (2000 -> R@2kt).
func RktName(n int) string {
	if n%1000 == 0 {
		return fmt.Sprintf("R@%dkt", n/1000)
	}
	return fmt.Sprintf("R@%dt", n)
}

// Config controls an evaluation.
type Config struct {
	Targets    []string // named vectors, e.g. "xqg", "passage"
	K          int      // retrieval depth (default 100)
	MaxTokens  []int    // R@kt cut-offs (default 2000, 5000)
	RecallKs   []int    // Recall@k cut-offs (default 1, 5, 10, 100)
	PermRounds int      // permutation-test rounds (default 10000)
	Seed       uint64   // permutation-test seed
	Workers    int      // parallel searches and tokenization (default 4)
	Scorer     *XORScorer
}

func (c Config) withDefaults() Config {
	if c.K <= 0 {
		c.K = 100
	}
	if len(c.MaxTokens) == 0 {
		c.MaxTokens = DefaultMaxTokens
	}
	if len(c.RecallKs) == 0 {
		c.RecallKs = []int{1, 5, 10, 100}
	}
	if c.PermRounds <= 0 {
		c.PermRounds = 10000
	}
	if c.Workers <= 0 {
		c.Workers = 4
	}
	if c.Scorer == nil {
		c.Scorer = NewXORScorer(nil)
	}
	return c
}

// TargetReport holds one target's scores.
type TargetReport struct {
	Target string `json:"target"`
	// PerLang[metric][lang] is the language's score (R@kt: hits/count*100;
	// relevance metrics: mean over the language's queries, ×100).
	PerLang map[string]map[string]float64 `json:"per_lang"`
	// Macro[metric] is the mean over languages.
	Macro map[string]float64 `json:"macro"`
	// Count[metric][lang] is how many queries were scored.
	Count map[string]map[string]int `json:"count"`
	// PerQuery[metric] holds per-query scores aligned with QueryIDs[metric].
	PerQuery map[string][]float64 `json:"-"`
	QueryIDs map[string][]string  `json:"-"`
}

// Comparison is a paired significance test of one metric between targets.
type Comparison struct {
	Metric string   `json:"metric"`
	A      string   `json:"a"`
	B      string   `json:"b"`
	MeanA  float64  `json:"mean_a"`
	MeanB  float64  `json:"mean_b"`
	TTest  TTest    `json:"t_test"`
	Perm   PermTest `json:"permutation"`
}

// Report is the outcome of an evaluation.
type Report struct {
	Dataset      string                `json:"dataset,omitempty"`
	Metrics      []string              `json:"metrics"`
	Langs        []string              `json:"langs"`
	Targets      []TargetReport        `json:"targets"`
	Significance []Comparison          `json:"significance,omitempty"`
	Runs         map[string][]RunEntry `json:"-"`
}

// Retrieve runs every query against every target with cfg.Workers
// concurrent searches.
func Retrieve(ctx context.Context, r Retriever, queries []Query, cfg Config) (map[string][]Ranking, error) {
	cfg = cfg.withDefaults()
	if len(cfg.Targets) == 0 {
		return nil, fmt.Errorf("eval: no targets")
	}
	out := map[string][]Ranking{}
	for _, target := range cfg.Targets {
		rs := make([]Ranking, len(queries))
		cctx, cancel := context.WithCancel(ctx)
		jobs := make(chan int)
		var wg sync.WaitGroup
		var once sync.Once
		var firstErr error
		for range cfg.Workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range jobs {
					q := queries[i]
					hits, err := r.Search(cctx, target, q.Text, cfg.K)
					if err != nil {
						once.Do(func() {
							firstErr = fmt.Errorf("eval: target %s, query %s: %w", target, q.ID, err)
							cancel()
						})
						continue
					}
					rs[i] = Ranking{QueryID: q.ID, Lang: q.Lang, Hits: hits}
				}
			}()
		}
	feed:
		for i := range queries {
			select {
			case jobs <- i:
			case <-cctx.Done():
				break feed
			}
		}
		close(jobs)
		wg.Wait()
		cancel()
		if firstErr != nil {
			return nil, firstErr
		}
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("eval: %w", err)
		}
		out[target] = rs
	}
	return out, nil
}

// Evaluate retrieves and scores queries on every target of cfg.
func Evaluate(ctx context.Context, r Retriever, name string, queries []Query, cfg Config) (*Report, error) {
	rankings, err := Retrieve(ctx, r, queries, cfg)
	if err != nil {
		return nil, err
	}
	return ScoreRankings(name, queries, rankings, cfg)
}

// ScoreRankings scores rankings (target -> one ranking per query, in the
// order of queries) and compares the first two targets, and every other
// target against the first.
func ScoreRankings(name string, queries []Query, rankings map[string][]Ranking, cfg Config) (*Report, error) {
	cfg = cfg.withDefaults()
	targets := cfg.Targets
	if len(targets) == 0 {
		for t := range rankings {
			targets = append(targets, t)
		}
		sort.Strings(targets)
	}
	byID := make(map[string]Query, len(queries))
	hasAnswers, hasRel := false, false
	langSet := map[string]bool{}
	for _, q := range queries {
		byID[q.ID] = q
		langSet[q.Lang] = true
		hasAnswers = hasAnswers || len(SpanAnswers(q.Answers)) > 0
		hasRel = hasRel || len(q.Relevant) > 0
	}
	rep := &Report{Dataset: name, Runs: map[string][]RunEntry{}}
	for l := range langSet {
		rep.Langs = append(rep.Langs, l)
	}
	sort.Strings(rep.Langs)
	if hasAnswers {
		for _, n := range cfg.MaxTokens {
			rep.Metrics = append(rep.Metrics, RktName(n))
		}
	}
	if hasRel {
		for _, k := range cfg.RecallKs {
			rep.Metrics = append(rep.Metrics, RecallName(k))
		}
		rep.Metrics = append(rep.Metrics, MetricMRR, MetricNDCG)
	}
	answers := map[string][]string{}
	for _, q := range queries {
		answers[q.ID] = q.Answers
	}
	for _, target := range targets {
		rs, ok := rankings[target]
		if !ok {
			return nil, fmt.Errorf("eval: no rankings for target %s", target)
		}
		tr := TargetReport{Target: target, PerLang: map[string]map[string]float64{}, Macro: map[string]float64{},
			Count: map[string]map[string]int{}, PerQuery: map[string][]float64{}, QueryIDs: map[string][]string{}}
		run := RunFromRankings(rs)
		rep.Runs[target] = run
		if hasAnswers {
			for _, x := range cfg.Scorer.Score(run, answers, cfg.MaxTokens, cfg.Workers) {
				m := RktName(x.MaxTokens)
				tr.PerLang[m], tr.Count[m] = map[string]float64{}, map[string]int{}
				for l, c := range x.PerLang {
					tr.PerLang[m][l] = c.Score()
					tr.Count[m][l] = c.Count
				}
				tr.Macro[m] = x.Macro
				tr.PerQuery[m] = x.PerQuery
				tr.QueryIDs[m] = x.PerQueryID
			}
		}
		if hasRel {
			names := append([]string{}, rep.Metrics...)
			sums := map[string]map[string]float64{}
			counts := map[string]int{}
			for _, rk := range rs {
				q, ok := byID[rk.QueryID]
				if !ok || len(q.Relevant) == 0 {
					continue
				}
				ids := make([]string, len(rk.Hits))
				for i, h := range rk.Hits {
					ids[i] = h.ID
				}
				vals := map[string]float64{MetricMRR: MRRAtK(ids, q.Relevant, 10), MetricNDCG: NDCGAtK(ids, q.Relevant, 10)}
				for _, k := range cfg.RecallKs {
					vals[RecallName(k)] = RecallAtK(ids, q.Relevant, k)
				}
				counts[q.Lang]++
				for m, v := range vals {
					if sums[m] == nil {
						sums[m] = map[string]float64{}
					}
					sums[m][q.Lang] += v
					tr.PerQuery[m] = append(tr.PerQuery[m], v)
					tr.QueryIDs[m] = append(tr.QueryIDs[m], q.ID)
				}
			}
			for _, m := range names {
				s, ok := sums[m]
				if !ok {
					continue
				}
				tr.PerLang[m], tr.Count[m] = map[string]float64{}, map[string]int{}
				macro := 0.0
				for l, v := range s {
					tr.PerLang[m][l] = v / float64(counts[l]) * 100
					tr.Count[m][l] = counts[l]
					macro += tr.PerLang[m][l]
				}
				tr.Macro[m] = macro / float64(len(s))
			}
		}
		rep.Targets = append(rep.Targets, tr)
	}
	for i := 1; i < len(rep.Targets); i++ {
		a, b := rep.Targets[0], rep.Targets[i]
		for _, m := range rep.Metrics {
			xa, xb, err := alignPerQuery(a, b, m)
			if err != nil {
				return nil, err
			}
			if len(xa) < 2 {
				continue
			}
			c := Comparison{Metric: m, A: a.Target, B: b.Target, MeanA: Mean(xa), MeanB: Mean(xb)}
			if c.TTest, err = PairedTTest(xa, xb); err != nil {
				return nil, err
			}
			if c.Perm, err = PairedPermutationTest(xa, xb, cfg.PermRounds, cfg.Seed); err != nil {
				return nil, err
			}
			rep.Significance = append(rep.Significance, c)
		}
	}
	return rep, nil
}

// alignPerQuery pairs two targets' per-query scores by query id.
func alignPerQuery(a, b TargetReport, metric string) ([]float64, []float64, error) {
	idx := map[string]int{}
	for i, id := range b.QueryIDs[metric] {
		idx[id] = i
	}
	var xa, xb []float64
	for i, id := range a.QueryIDs[metric] {
		j, ok := idx[id]
		if !ok {
			return nil, nil, fmt.Errorf("eval: %s: query %s scored on %s but not on %s", metric, id, a.Target, b.Target)
		}
		xa = append(xa, a.PerQuery[metric][i])
		xb = append(xb, b.PerQuery[metric][j])
	}
	return xa, xb, nil
}
