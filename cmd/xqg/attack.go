package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/xqg/xqg/attack"
	"github.com/xqg/xqg/collection"
	"github.com/xqg/xqg/eval/weaviateeval"
)

func newAttackCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "attack",
		Short: "Robustness to query perturbations (typos, diacritics, segmentation, word order, paraphrase)",
	}
	cmd.AddCommand(newAttackGenerateCmd(g), newAttackScoreCmd(g))
	return cmd
}

func newAttackGenerateCmd(g *globalFlags) *cobra.Command {
	f := &evalDataFlags{}
	var types, out string
	var seed uint64
	var edits int
	cmd := &cobra.Command{
		Use:   "generate --queries FILE --seed N --types insert,delete,...",
		Short: "Write seeded, reproducible attacked query sets (JSONL)",
		Long: `Reads queries (--queries: jsonl with id, question, answers, lang; or --dataset xquad|ntrex|tatoeba
--data DIR, whose queries carry relevance labels) and writes one attacked query per line for every
query a type can change: id "<orig>#<type>", question, answers, relevant, lang, orig_id, attack,
original, seed. The same seed always gives the same output; a query's perturbation does not depend
on the other queries in the file.

Types: insert, delete, substitute, swap (grapheme clusters); keyboard (neighbour keys on
QWERTY-fi, ЙЦУКЕН-ru, Arabic 101, Korean 2-set); diacritics (Arabic harakat, Bengali and
Telugu vowel signs and virama); segment (ja/ko spacing); wordswap; paraphrase: the configured
generator (generator.model_dir, run in the xqg-vectorizer plugin) asked for questions about the
query in the query's own language, the first that differs is the paraphrase. "all" selects every
type but paraphrase.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.kind == weaviateeval.XOR && f.queries == "" {
				return usageError(fmt.Errorf("--queries is required"))
			}
			var ts []attack.Type
			if types == "all" {
				for _, t := range attack.AllTypes {
					if t != attack.Paraphrase {
						ts = append(ts, t)
					}
				}
			} else {
				var err error
				if ts, err = attack.ParseTypes(types); err != nil {
					return usageError(err)
				}
			}
			cfg, d, err := f.load(g)
			if err != nil {
				return err
			}
			opts := attack.Options{Edits: edits}
			if slicesContains(ts, attack.Paraphrase) {
				if cfg.Generator.ModelDir == "" {
					return usageError(errors.New("--types paraphrase needs the generator: set generator.model_dir"))
				}
				// Generate only in the queries' languages: the paraphrase of a query is in its own.
				langs := map[string]bool{}
				cfg.Generator.Languages = nil
				for _, q := range d.Queries {
					if !langs[q.Lang] {
						langs[q.Lang] = true
						cfg.Generator.Languages = append(cfg.Generator.Languages, q.Lang)
					}
				}
				sort.Strings(cfg.Generator.Languages)
				ps := &pluginSession{cfg: cfg, stderr: cmd.ErrOrStderr()}
				defer ps.close()
				h, err := ps.get(cmd.Context())
				if err != nil {
					return err
				}
				opts.Paraphraser = attack.GeneratorParaphraser{V: h}
			}
			as, skipped, err := attack.Generate(cmd.Context(), d.Queries, ts, seed, opts)
			if err != nil {
				return err
			}
			var w io.Writer = cmd.OutOrStdout()
			var file *os.File
			if out != "" {
				if file, err = os.Create(out); err != nil {
					return err
				}
				w = file
			}
			err = attack.WriteJSONL(w, as)
			if file != nil {
				if cerr := file.Close(); err == nil {
					err = cerr
				}
			}
			if err != nil {
				return fmt.Errorf("writing attacked queries: %w", err)
			}
			var keys []string
			for t := range skipped {
				keys = append(keys, string(t))
			}
			sort.Strings(keys)
			fmt.Fprintf(cmd.ErrOrStderr(), "wrote %d attacked queries from %d queries (seed %d)\n", len(as), len(d.Queries), seed)
			for _, k := range keys {
				fmt.Fprintf(cmd.ErrOrStderr(), "  %s: %d queries not applicable\n", k, skipped[attack.Type(k)])
			}
			return nil
		},
	}
	f.registerData(cmd, weaviateeval.XOR)
	fl := cmd.Flags()
	fl.StringVar(&types, "types", "all", "comma-separated perturbation types, or all")
	fl.Uint64Var(&seed, "seed", 1, "random seed")
	fl.IntVar(&edits, "edits", 1, "edits per perturbation")
	fl.StringVar(&out, "out", "", "output file (default stdout)")
	return cmd
}

func slicesContains(ts []attack.Type, t attack.Type) bool {
	for _, x := range ts {
		if x == t {
			return true
		}
	}
	return false
}

func newAttackScoreCmd(g *globalFlags) *cobra.Command {
	f := &evalDataFlags{}
	var attackedPath, out, targets string
	var k, maxTokens, depth, rounds, workers int
	var level float64
	var seed uint64
	var nearVector bool
	cmd := &cobra.Command{
		Use:   "score --queries CLEAN.jsonl --attacked ATTACKED.jsonl --out DIR",
		Short: "Clean vs attacked retrieval on both named vectors through Weaviate, per language and family",
		Long: `Runs the clean queries (the same dataset flags as attack generate) and the attacked ones
(--attacked, written by xqg attack generate) against the collection through Weaviate on each of
--targets, and reports per attack type and per language, language family (Afro-Asiatic: ar;
Indo-Aryan: bn; Dravidian: te; Uralic: fi; Japonic: ja; Koreanic: ko; Slavic: ru) and overall:
clean and attacked success, the relative drop and the attack success rate (queries succeeding
clean that fail attacked), with bootstrap confidence intervals over queries.

A query succeeds when its gold passage is in the top -k (queries with relevance labels, e.g.
XQuAD) or, for answer-only queries (XOR-TyDi), when an answer is within the first --max-tokens
tokens of the ranking, as R@kt counts it. Writes robustness.json, robustness.md and a drop chart
per attack type (PNG, SVG) into --out.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if attackedPath == "" || out == "" {
				return usageError(errors.New("--attacked and --out are required"))
			}
			if f.kind == weaviateeval.XOR && f.queries == "" {
				return usageError(errors.New("--queries (the clean queries) is required"))
			}
			ts, err := parseTargets(targets)
			if err != nil {
				return usageError(err)
			}
			if k < 1 || maxTokens < 1 || depth < 1 || rounds < 1 {
				return usageError(errors.New("-k, --max-tokens, --depth and --rounds must be positive"))
			}
			if level <= 0 || level >= 1 {
				return usageError(fmt.Errorf("--level %v: want a confidence level in (0, 1)", level))
			}
			attacked, err := attack.LoadJSONL(attackedPath)
			if err != nil {
				return usageError(err)
			}
			cfg, d, err := f.load(g)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(c.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			r, _, err := ingestedRetriever(ctx, cfg, "xqg eval corpus")
			if err != nil {
				return err
			}
			ps := &pluginSession{cfg: cfg, stderr: c.ErrOrStderr()}
			defer ps.close()
			if nearVector || collection.SpecFromConfig(cfg.Weaviate).BringYourOwn() {
				h, err := ps.get(ctx)
				if err != nil {
					return err
				}
				r.Encoder = h
			}
			pairs, skipped, err := weaviateeval.Robustness(ctx, r, d.Queries, attacked,
				weaviateeval.RobustnessConfig{Targets: ts, K: k, MaxTokens: maxTokens, Depth: depth, Workers: workers})
			if err != nil {
				return err
			}
			rows, err := attack.Score(pairs, attack.ScoreConfig{Rounds: rounds, Level: level, Seed: seed})
			if err != nil {
				return err
			}
			files, err := weaviateeval.WriteRobustness(out, rows, level)
			if err != nil {
				return err
			}
			b, err := json.MarshalIndent(rows, "", "  ")
			if err != nil {
				return err
			}
			jp := filepath.Join(out, "robustness.json")
			if err := os.WriteFile(jp, append(b, '\n'), 0o644); err != nil {
				return err
			}
			fmt.Fprint(c.OutOrStdout(), weaviateeval.RobustnessMarkdown(rows, level))
			msg := fmt.Sprintf("%d attacked queries scored on %s against %s", len(pairs[ts[0]]), strings.Join(ts, ","), cfg.Weaviate.Collection)
			if skipped > 0 {
				msg += fmt.Sprintf(" (%d left out: original not among the clean queries or unlabelled)", skipped)
			}
			fmt.Fprintf(c.ErrOrStderr(), "%s; wrote %d files into %s\n", msg, len(files)+1, out)
			return nil
		},
	}
	f.registerData(cmd, weaviateeval.XOR)
	fl := cmd.Flags()
	fl.StringVar(&f.collection, "collection", "", "collection holding the corpus (default weaviate.collection)")
	fl.StringVar(&attackedPath, "attacked", "", "attacked queries (jsonl from xqg attack generate)")
	fl.StringVar(&out, "out", "", "folder for robustness.json, robustness.md and the drop charts")
	fl.StringVar(&targets, "targets", "passage,xqg", "named vectors to compare")
	fl.IntVarP(&k, "k", "k", 10, "success cut-off for labelled queries: the gold passage in the top k")
	fl.IntVar(&maxTokens, "max-tokens", 2000, "success cut-off for answer-only queries: an answer within this many tokens")
	fl.IntVar(&depth, "depth", 100, "passages retrieved per query")
	fl.IntVar(&rounds, "rounds", 1000, "bootstrap rounds")
	fl.Float64Var(&level, "level", 0.95, "confidence level of the intervals")
	fl.Uint64Var(&seed, "seed", 1, "bootstrap seed")
	fl.IntVar(&workers, "workers", 4, "concurrent searches")
	fl.BoolVar(&nearVector, "near-vector", false, "encode queries with the plugin and send nearVector")
	return cmd
}
