package main

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/xqg/xqg/eval"
	"github.com/xqg/xqg/eval/nltktok"
)

func newEvalCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "eval",
		Short: "Evaluate retrieval: XOR-TyDi R@2kt/R@5kt, Recall@k, MRR@10, nDCG@10, significance",
	}
	cmd.AddCommand(newEvalScoreCmd(), newEvalRunCmd(g), newEvalCorpusCmd(g))
	return cmd
}

// parseInts parses "2000,5000".
func parseInts(flag, s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("--%s: %q is not a positive integer", flag, f)
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("--%s: no values", flag)
	}
	return out, nil
}

func newEvalScoreCmd() *cobra.Command {
	var runPath, answersPath, maxTokens, jsonOut, mdOut, punktTab string
	var workers int
	cmd := &cobra.Command{
		Use:   "score --run RUN.json --answers XOR_JSONL",
		Short: "Score a run in the XOR-Retrieve submission format, as eval_xor_retrieve.py does",
		Long: `Scores an existing run ([{"id","lang","ctxs":[passage text,...]}]) against XOR-TyDi
answers (jsonl with id, question, answers, lang) without Weaviate: per language, yes/no
answers are dropped, the ranked passages' NLTK word tokens are concatenated and cut at each
--max-tokens, and a question is a hit when an answer is a case-sensitive substring of the
space-joined tokens. Prints the per-language table and the macro average.

Tokenization follows NLTK's word_tokenize. Its trained English Punkt model is not
bundled; without --punkt-tab an untrained Punkt splits sentences (e.g. "Mr." ends a
sentence), which can move a score by a few hundredths of a point relative to the official
script run with the trained model.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runPath == "" || answersPath == "" {
				return usageError(fmt.Errorf("--run and --answers are required"))
			}
			cuts, err := parseInts("max-tokens", maxTokens)
			if err != nil {
				return usageError(err)
			}
			var tok *nltktok.WordTokenizer
			if punktTab != "" {
				params, err := nltktok.LoadPunktTab(punktTab)
				if err != nil {
					return usageError(err)
				}
				tok = nltktok.NewWordTokenizer(nltktok.NewPunkt(params))
			}
			run, err := eval.LoadRun(runPath)
			if err != nil {
				return usageError(err)
			}
			qs, err := eval.LoadXORJSONL(answersPath)
			if err != nil {
				return usageError(err)
			}
			answers := map[string][]string{}
			for _, q := range qs {
				answers[q.ID] = q.Answers
			}
			if workers <= 0 {
				workers = runtime.GOMAXPROCS(0)
			}
			res := eval.NewXORScorer(tok).Score(run, answers, cuts, workers)
			if len(res) == 0 || len(res[0].Langs) == 0 {
				return fmt.Errorf("no run entry matched a question with span answers in %s (%d run entries, %d questions)", answersPath, len(run), len(qs))
			}
			md := eval.XORMarkdown(res)
			fmt.Fprint(cmd.OutOrStdout(), md)
			if mdOut != "" {
				if err := os.WriteFile(mdOut, []byte(md), 0o644); err != nil {
					return err
				}
			}
			if jsonOut != "" {
				b, err := json.MarshalIndent(res, "", "  ")
				if err != nil {
					return err
				}
				if err := os.WriteFile(jsonOut, append(b, '\n'), 0o644); err != nil {
					return err
				}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&runPath, "run", "", "run file in the XOR-Retrieve submission format (JSON)")
	f.StringVar(&answersPath, "answers", "", "XOR-TyDi questions with answers (jsonl)")
	f.StringVar(&maxTokens, "max-tokens", "2000,5000", "token cut-offs, comma-separated")
	f.StringVar(&jsonOut, "json", "", "also write the scores as JSON to this file")
	f.StringVar(&mdOut, "markdown", "", "also write the table to this markdown file")
	f.StringVar(&punktTab, "punkt-tab", "", "NLTK punkt_tab directory with trained Punkt parameters (default: untrained)")
	f.IntVar(&workers, "workers", 0, "tokenization goroutines (default: GOMAXPROCS)")
	return cmd
}
