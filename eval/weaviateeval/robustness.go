package weaviateeval

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/xqg/xqg/attack"
	"github.com/xqg/xqg/eval"
)

// RobustnessConfig controls Robustness.
type RobustnessConfig struct {
	Targets []string
	// K is the cut-off of "the gold passage is in the top k" for queries with relevance labels.
	K int
	// MaxTokens is the R@kt cut-off for queries with answers only (XOR-TyDi): a query succeeds when
	// an answer is in the first MaxTokens tokens of its ranking.
	MaxTokens int
	// Depth is how many passages are retrieved per query (at least K; default 100).
	Depth   int
	Workers int
	Scorer  *eval.XORScorer
}

// Robustness runs the clean queries that attacked ones derive from and the attacked queries on every
// target, and pairs each attacked query's success with its original's. Labels (relevance, answers)
// always come from the clean query. Attacked queries whose original is not among clean, or has no
// label, are left out and counted in skipped.
func Robustness(ctx context.Context, r eval.Retriever, clean []eval.Query, attacked []attack.Attacked, cfg RobustnessConfig) (map[string][]attack.Pair, int, error) {
	if cfg.K <= 0 {
		cfg.K = 10
	}
	if cfg.MaxTokens <= 0 {
		cfg.MaxTokens = 2000
	}
	if cfg.Depth <= 0 {
		cfg.Depth = 100
	}
	cfg.Depth = max(cfg.Depth, cfg.K)
	if cfg.Scorer == nil {
		cfg.Scorer = eval.NewXORScorer(nil)
	}
	byID := map[string]eval.Query{}
	for _, q := range clean {
		byID[q.ID] = q
	}
	labelled := func(q eval.Query) bool { return len(q.Relevant) > 0 || len(eval.SpanAnswers(q.Answers)) > 0 }
	var cleanRun, attackRun []eval.Query
	var kept []attack.Attacked
	used := map[string]bool{}
	skipped := 0
	for _, a := range attacked {
		q, ok := byID[a.OrigID]
		if !ok || !labelled(q) {
			skipped++
			continue
		}
		if !used[q.ID] {
			used[q.ID] = true
			cleanRun = append(cleanRun, q)
		}
		aq := q
		aq.ID, aq.Text = a.ID, a.Text
		attackRun = append(attackRun, aq)
		kept = append(kept, a)
	}
	if len(kept) == 0 {
		return nil, skipped, fmt.Errorf("robustness: none of %d attacked queries has a labelled original among %d clean queries", len(attacked), len(clean))
	}
	ecfg := eval.Config{Targets: cfg.Targets, K: cfg.Depth, Workers: cfg.Workers}
	cr, err := eval.Retrieve(ctx, r, cleanRun, ecfg)
	if err != nil {
		return nil, skipped, err
	}
	ar, err := eval.Retrieve(ctx, r, attackRun, ecfg)
	if err != nil {
		return nil, skipped, err
	}
	success := func(q eval.Query, hits []eval.Hit) float64 {
		if len(q.Relevant) > 0 {
			ids := make([]string, len(hits))
			for i, h := range hits {
				ids[i] = h.ID
			}
			return eval.SuccessAtK(ids, q.Relevant, cfg.K)
		}
		ctxs := make([]string, len(hits))
		for i, h := range hits {
			ctxs[i] = h.Text
		}
		if cfg.Scorer.Hit(ctxs, eval.SpanAnswers(q.Answers), cfg.MaxTokens) {
			return 1
		}
		return 0
	}
	out := map[string][]attack.Pair{}
	for _, target := range cfg.Targets {
		cleanScore := map[string]float64{}
		for i, rk := range cr[target] {
			cleanScore[rk.QueryID] = success(cleanRun[i], rk.Hits)
		}
		for i, rk := range ar[target] {
			a := kept[i]
			out[target] = append(out[target], attack.Pair{QueryID: a.ID, Lang: a.Lang, Type: a.Type,
				Clean: cleanScore[a.OrigID], Attack: success(attackRun[i], rk.Hits)})
		}
	}
	return out, skipped, nil
}

// RobustnessMarkdown renders rows as one table per attack type: per group (language, family, all),
// each target's clean and attacked score, relative drop and attack success rate with their CIs.
func RobustnessMarkdown(rows []attack.Row, level float64) string {
	var b strings.Builder
	types := map[attack.Type][]attack.Row{}
	var order []attack.Type
	for _, r := range rows {
		if _, ok := types[r.Type]; !ok {
			order = append(order, r.Type)
		}
		types[r.Type] = append(types[r.Type], r)
	}
	ci := func(c eval.CI) string { return fmt.Sprintf("%.1f [%.1f, %.1f]", c.Value, c.Lo, c.Hi) }
	for _, t := range order {
		rs := types[t]
		sort.SliceStable(rs, func(i, j int) bool {
			if gi, gj := groupRank(rs[i].Group), groupRank(rs[j].Group); gi != gj {
				return gi < gj
			}
			if rs[i].Group != rs[j].Group {
				return rs[i].Group < rs[j].Group
			}
			return rs[i].Target < rs[j].Target
		})
		fmt.Fprintf(&b, "### %s\n\n| group | target | n | clean | attacked | relative drop %% | attack success %% |\n|---|---|---:|---:|---:|---:|---:|\n", t)
		for _, r := range rs {
			fmt.Fprintf(&b, "| %s | %s | %d | %s | %s | %s | %s |\n", r.Group, r.Target, r.N, ci(r.Clean), ci(r.Attacked), ci(r.RelDrop), ci(r.SuccessRate))
		}
		b.WriteString("\n")
	}
	if len(order) > 0 {
		fmt.Fprintf(&b, "Scores ×100 with %.0f%% bootstrap confidence intervals over queries. Attack success: the share of queries\nsucceeding clean that fail attacked.\n", level*100)
	}
	return b.String()
}

// groupRank orders languages, then families, then "all".
func groupRank(g string) int {
	switch {
	case g == "all":
		return 2
	case len(g) <= 3:
		return 0
	}
	return 1
}

// WriteRobustness writes robustness.md and one drop chart per attack type (groups: languages,
// families, all) into dir, and returns the written files.
func WriteRobustness(dir string, rows []attack.Row, level float64) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	p := filepath.Join(dir, "robustness.md")
	if err := os.WriteFile(p, []byte(RobustnessMarkdown(rows, level)), 0o644); err != nil {
		return nil, err
	}
	files := []string{p}
	groups := map[attack.Type]map[string]bool{}
	for _, r := range rows {
		if groups[r.Type] == nil {
			groups[r.Type] = map[string]bool{}
		}
		groups[r.Type][r.Group] = true
	}
	for t, gs := range groups {
		var list []string
		for g := range gs {
			list = append(list, g)
		}
		sort.Slice(list, func(i, j int) bool {
			if a, b := groupRank(list[i]), groupRank(list[j]); a != b {
				return a < b
			}
			return list[i] < list[j]
		})
		cs, err := attack.DropChart(filepath.Join(dir, "drop-"+string(t)), rows, t, list)
		if err != nil {
			return nil, err
		}
		files = append(files, cs...)
	}
	return files, nil
}
