package main

import (
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/spf13/cobra"

	"github.com/xqg/xqg/attack"
	"github.com/xqg/xqg/eval"
)

func newAttackCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "attack",
		Short: "Robustness to query perturbations (typos, diacritics, segmentation, word order, paraphrase)",
	}
	cmd.AddCommand(newAttackGenerateCmd())
	return cmd
}

func newAttackGenerateCmd() *cobra.Command {
	var queries, types, out string
	var seed uint64
	var edits int
	cmd := &cobra.Command{
		Use:   "generate --queries FILE --seed N --types insert,delete,...",
		Short: "Write seeded, reproducible attacked query sets (JSONL)",
		Long: `Reads queries (jsonl: id, question, answers, lang) and writes one attacked query per
line for every query a type can change: id "<orig>#<type>", question, answers, lang,
orig_id, attack, original, seed. The same seed always gives the same output; a query's
perturbation does not depend on the other queries in the file.

Types: insert, delete, substitute, swap (grapheme clusters); keyboard (neighbour keys on
QWERTY-fi, ЙЦУКЕН-ru, Arabic 101, Korean 2-set); diacritics (Arabic harakat, Bengali and
Telugu vowel signs and virama); segment (ja/ko spacing); wordswap; paraphrase (needs
the generator, run through the service). "all" selects every type but paraphrase.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if queries == "" {
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
			for _, t := range ts {
				if t == attack.Paraphrase {
					return usageError(fmt.Errorf("--types paraphrase needs the generator; it is not available in attack generate"))
				}
			}
			qs, err := eval.LoadXORJSONL(queries)
			if err != nil {
				return usageError(err)
			}
			as, skipped, err := attack.Generate(cmd.Context(), qs, ts, seed, attack.Options{Edits: edits})
			if err != nil {
				return err
			}
			var w io.Writer = cmd.OutOrStdout()
			var f *os.File
			if out != "" {
				if f, err = os.Create(out); err != nil {
					return err
				}
				w = f
			}
			err = attack.WriteJSONL(w, as)
			if f != nil {
				if cerr := f.Close(); err == nil {
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
			fmt.Fprintf(cmd.ErrOrStderr(), "wrote %d attacked queries from %d queries (seed %d)\n", len(as), len(qs), seed)
			for _, k := range keys {
				fmt.Fprintf(cmd.ErrOrStderr(), "  %s: %d queries not applicable\n", k, skipped[attack.Type(k)])
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&queries, "queries", "", "queries (jsonl: id, question, answers, lang)")
	f.StringVar(&types, "types", "all", "comma-separated perturbation types, or all")
	f.Uint64Var(&seed, "seed", 1, "random seed")
	f.IntVar(&edits, "edits", 1, "edits per perturbation")
	f.StringVar(&out, "out", "", "output file (default stdout)")
	return cmd
}
