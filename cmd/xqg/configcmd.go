package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/xqg/xqg/config"
)

func newConfigCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "config", Short: "Show or check the effective configuration"}
	cmd.AddCommand(&cobra.Command{
		Use:   "print",
		Short: "Print every key's effective value and where it came from (secrets masked)",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			l, err := g.load(nil)
			if err != nil {
				return err
			}
			values := l.Config.Values()
			w := tabwriter.NewWriter(c.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "KEY\tVALUE\tSOURCE")
			for _, k := range config.Keys() {
				fmt.Fprintf(w, "%s\t%s\t%s\n", k, display(k, values[k]), l.Sources[k])
			}
			return w.Flush()
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "validate",
		Short: "Check the configuration; exit 2 and list every problem when it is invalid",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			l, err := g.load(nil)
			if err != nil {
				return err
			}
			src := "defaults and environment"
			if l.File != "" {
				src = l.File
			}
			fmt.Fprintf(c.OutOrStdout(), "configuration is valid (%s)\n", src)
			return nil
		},
	})
	return cmd
}

// display masks secrets: a key that holds one shows only whether it is set.
func display(key string, v any) string {
	s := fmt.Sprint(v)
	if strings.HasSuffix(key, "api_key") && s != "" {
		return "****"
	}
	if s == "" {
		return `""`
	}
	return s
}
