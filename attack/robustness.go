package attack

import (
	"fmt"
	"sort"

	"github.com/xqg/xqg/eval"
)

// Pair is one query's clean and attacked score on one target (1/0 for
// "gold in the top k", or a graded recall).
type Pair struct {
	QueryID string
	Lang    string
	Type    Type
	Clean   float64
	Attack  float64
}

// Row is the robustness of one target under one attack type for one group
// (a language, a family, or "all").
type Row struct {
	Target string `json:"target"`
	Type   Type   `json:"attack"`
	Group  string `json:"group"`
	N      int    `json:"n"`
	// Clean and Attacked are mean scores ×100.
	Clean    eval.CI `json:"clean"`
	Attacked eval.CI `json:"attacked"`
	// RelDrop is (clean-attacked)/clean ×100.
	RelDrop eval.CI `json:"relative_drop"`
	// SuccessRate is the share (×100) of queries scoring > 0 clean that
	// score 0 attacked: the gold passage left the top k.
	SuccessRate eval.CI `json:"success_rate"`
}

// ScoreConfig controls the bootstrap.
type ScoreConfig struct {
	Rounds int     // default 1000
	Level  float64 // default 0.95
	Seed   uint64
}

// Score groups pairs by target, attack type and language, family and
// "all", and computes clean vs attacked means, relative drop and attack
// success rate with bootstrap CIs (resampling queries).
func Score(pairs map[string][]Pair, cfg ScoreConfig) ([]Row, error) {
	if cfg.Rounds <= 0 {
		cfg.Rounds = 1000
	}
	if cfg.Level == 0 {
		cfg.Level = 0.95
	}
	var targets []string
	for t := range pairs {
		targets = append(targets, t)
	}
	sort.Strings(targets)
	var rows []Row
	for _, target := range targets {
		groups := map[[2]string][]Pair{}
		var keys [][2]string
		add := func(typ Type, g string, p Pair) {
			k := [2]string{string(typ), g}
			if _, ok := groups[k]; !ok {
				keys = append(keys, k)
			}
			groups[k] = append(groups[k], p)
		}
		for _, p := range pairs[target] {
			add(p.Type, p.Lang, p)
			if f, ok := Families[p.Lang]; ok {
				add(p.Type, f, p)
			}
			add(p.Type, "all", p)
		}
		sort.Slice(keys, func(i, j int) bool {
			if keys[i][0] != keys[j][0] {
				return keys[i][0] < keys[j][0]
			}
			return keys[i][1] < keys[j][1]
		})
		for _, k := range keys {
			ps := groups[k]
			row := Row{Target: target, Type: Type(k[0]), Group: k[1], N: len(ps)}
			mean := func(f func(Pair) float64) func([]int) float64 {
				return func(idx []int) float64 {
					s := 0.0
					for _, i := range idx {
						s += f(ps[i])
					}
					return s / float64(len(idx)) * 100
				}
			}
			var err error
			if row.Clean, err = eval.Bootstrap(len(ps), mean(func(p Pair) float64 { return p.Clean }), cfg.Rounds, cfg.Level, cfg.Seed); err != nil {
				return nil, fmt.Errorf("attack score %s/%s: %w", target, k, err)
			}
			if row.Attacked, err = eval.Bootstrap(len(ps), mean(func(p Pair) float64 { return p.Attack }), cfg.Rounds, cfg.Level, cfg.Seed); err != nil {
				return nil, err
			}
			row.RelDrop, _ = eval.Bootstrap(len(ps), func(idx []int) float64 {
				c, a := 0.0, 0.0
				for _, i := range idx {
					c += ps[i].Clean
					a += ps[i].Attack
				}
				if c == 0 {
					return 0
				}
				return (c - a) / c * 100
			}, cfg.Rounds, cfg.Level, cfg.Seed)
			row.SuccessRate, _ = eval.Bootstrap(len(ps), func(idx []int) float64 {
				n, s := 0, 0
				for _, i := range idx {
					if ps[i].Clean > 0 {
						n++
						if ps[i].Attack == 0 {
							s++
						}
					}
				}
				if n == 0 {
					return 0
				}
				return float64(s) / float64(n) * 100
			}, cfg.Rounds, cfg.Level, cfg.Seed)
			rows = append(rows, row)
		}
	}
	return rows, nil
}

// PairsFromRankings builds pairs for one target: success@k of each
// attacked query's ranking against the clean ranking of its original.
func PairsFromRankings(attacked []Attacked, clean, perturbed map[string][]string, k int) ([]Pair, error) {
	var out []Pair
	for _, a := range attacked {
		c, ok := clean[a.OrigID]
		if !ok {
			return nil, fmt.Errorf("attack: no clean ranking for query %s", a.OrigID)
		}
		p, ok := perturbed[a.ID]
		if !ok {
			return nil, fmt.Errorf("attack: no ranking for attacked query %s", a.ID)
		}
		out = append(out, Pair{QueryID: a.ID, Lang: a.Lang, Type: a.Type,
			Clean: eval.SuccessAtK(c, a.Relevant, k), Attack: eval.SuccessAtK(p, a.Relevant, k)})
	}
	return out, nil
}

// DropChart draws the relative drop per group for each target under one
// attack type, with CI error bars.
func DropChart(base string, rows []Row, typ Type, groups []string) ([]string, error) {
	byTarget := map[string]map[string]Row{}
	var targets []string
	for _, r := range rows {
		if r.Type != typ {
			continue
		}
		if byTarget[r.Target] == nil {
			byTarget[r.Target] = map[string]Row{}
			targets = append(targets, r.Target)
		}
		byTarget[r.Target][r.Group] = r
	}
	var series []eval.Series
	for _, t := range targets {
		s := eval.Series{Name: t}
		for _, g := range groups {
			r := byTarget[t][g]
			s.Values = append(s.Values, r.RelDrop.Value)
			s.Lo = append(s.Lo, r.RelDrop.Lo)
			s.Hi = append(s.Hi, r.RelDrop.Hi)
		}
		series = append(series, s)
	}
	return eval.BarChart(base, "relative drop under "+string(typ)+" (%)", "relative drop (%)", groups, series)
}
