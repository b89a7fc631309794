package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/xqg/xqg/collection"
	"github.com/xqg/xqg/search"
)

func newQueryCmd(g *globalFlags) *cobra.Command {
	var target string
	var k int
	var asJSON, hybrid bool
	var where []string
	cmd := &cobra.Command{
		Use:   `query "TEXT"`,
		Short: "Search the xqg collection through Weaviate (nearText on one named vector)",
		Long: `query sends TEXT to Weaviate as nearText on the chosen named vector: Weaviate calls xqg serve's
query path (plain encoding, never generation) and ranks by distance. --hybrid mixes in BM25.`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			l, err := g.load(nil)
			if err != nil {
				return err
			}
			if target != collection.VectorXQG && target != collection.VectorPassage {
				return usageError(fmt.Errorf("--target %q: want %s or %s", target, collection.VectorXQG, collection.VectorPassage))
			}
			if k < 1 {
				return usageError(fmt.Errorf("-k %d: must be at least 1", k))
			}
			filter := map[string]string{}
			for _, kv := range where {
				key, val, ok := strings.Cut(kv, "=")
				if !ok || key == "" {
					return usageError(fmt.Errorf("--where %q: want property=value", kv))
				}
				filter[key] = val
			}
			client, err := collection.Connect(l.Config.Weaviate, false)
			if err != nil {
				return err
			}
			req := search.Request{Collection: l.Config.Weaviate.Collection, Text: args[0], Target: target, K: k, Where: filter}
			if hybrid {
				req.Mode = search.Hybrid
			}
			hits, err := search.Query(c.Context(), client, req)
			if err != nil {
				return err
			}
			out := c.OutOrStdout()
			if asJSON {
				return writeJSONList(out, hits)
			}
			if len(hits) == 0 {
				fmt.Fprintln(out, "no results")
				return nil
			}
			tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
			score := "DISTANCE"
			if hybrid {
				score = "SCORE"
			}
			fmt.Fprintf(tw, "#\t%s\tPASSAGE\tTITLE\tSNIPPET\n", score)
			for _, h := range hits {
				s := "-"
				if h.Distance != nil {
					s = fmt.Sprintf("%.4f", *h.Distance)
				} else if h.Score != nil {
					s = fmt.Sprintf("%.4f", *h.Score)
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", h.Rank, s, h.PassageID, search.Snippet(h.Title, 30), search.Snippet(h.Text, 80))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&target, "target", collection.VectorXQG, "named vector to search: xqg (query-augmented) or passage (plain)")
	cmd.Flags().IntVarP(&k, "k", "k", 10, "number of results")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the results as JSON")
	cmd.Flags().BoolVar(&hybrid, "hybrid", false, "hybrid search (BM25 + the vector)")
	cmd.Flags().StringArrayVar(&where, "where", nil, "keep objects whose property equals a value: --where title=Bees (repeatable)")
	return cmd
}
