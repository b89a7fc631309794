package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/xqg/xqg/collection"
	"github.com/xqg/xqg/search"
)

func newCollectionsCmd(g *globalFlags) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "collections",
		Short: "List Weaviate's collections with their named vectors and object counts",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			l, err := g.load(nil)
			if err != nil {
				return err
			}
			client, err := collection.Connect(l.Config.Weaviate, false)
			if err != nil {
				return err
			}
			infos, err := search.Collections(c.Context(), client)
			if err != nil {
				return err
			}
			out := c.OutOrStdout()
			if asJSON {
				return writeJSONList(out, infos)
			}
			if len(infos) == 0 {
				fmt.Fprintln(out, "no collections")
				return nil
			}
			tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "COLLECTION\tOBJECTS\tSHARDS\tREPLICAS\tVECTORS")
			for _, in := range infos {
				var vs []string
				for _, v := range in.Vectors {
					s := fmt.Sprintf("%s (%s, %s", v.Name, v.Vectorizer, v.Distance)
					if v.Quantization != "" {
						s += ", " + v.Quantization
					}
					vs = append(vs, s+")")
				}
				fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\n", in.Name, in.Count, in.Shards, in.Factor, strings.Join(vs, "; "))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}

// writeJSONList prints a result list as indented JSON; none prints [], not null.
func writeJSONList[T any](w io.Writer, items []T) error {
	if items == nil {
		items = []T{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(items)
}
