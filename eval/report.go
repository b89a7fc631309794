package eval

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// Markdown renders one table per metric (rows: languages and the macro
// average; columns: targets) and the significance tests.
func (r *Report) Markdown() string {
	var b strings.Builder
	if r.Dataset != "" {
		fmt.Fprintf(&b, "## %s\n\n", r.Dataset)
	}
	for _, m := range r.Metrics {
		fmt.Fprintf(&b, "### %s\n\n| lang |", m)
		for _, t := range r.Targets {
			fmt.Fprintf(&b, " %s |", t.Target)
		}
		b.WriteString(" n |\n|---|")
		for range r.Targets {
			b.WriteString("---:|")
		}
		b.WriteString("---:|\n")
		for _, l := range r.Langs {
			n := 0
			row := ""
			for _, t := range r.Targets {
				v, ok := t.PerLang[m][l]
				if !ok {
					row += " – |"
					continue
				}
				row += fmt.Sprintf(" %.2f |", v)
				n = max(n, t.Count[m][l])
			}
			if n == 0 {
				continue
			}
			fmt.Fprintf(&b, "| %s |%s %d |\n", l, row, n)
		}
		b.WriteString("| **macro** |")
		for _, t := range r.Targets {
			fmt.Fprintf(&b, " **%.2f** |", t.Macro[m])
		}
		b.WriteString(" |\n\n")
	}
	if len(r.Significance) > 0 {
		b.WriteString("### Paired significance\n\n| metric | A | B | mean A | mean B | t | p (t-test) | p (permutation) |\n|---|---|---|---:|---:|---:|---:|---:|\n")
		for _, c := range r.Significance {
			fmt.Fprintf(&b, "| %s | %s | %s | %.4f | %.4f | %.3f | %.4g | %.4g |\n", c.Metric, c.A, c.B, c.MeanA, c.MeanB, c.TTest.T, c.TTest.P, c.Perm.P)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// XORMarkdown renders R@kt results of a scored run, languages in the order
// the official script prints them.
func XORMarkdown(results []XORResult) string {
	if len(results) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("| lang | n |")
	for _, r := range results {
		fmt.Fprintf(&b, " %s |", RktName(r.MaxTokens))
	}
	b.WriteString("\n|---|---:|")
	for range results {
		b.WriteString("---:|")
	}
	b.WriteString("\n")
	for _, l := range results[0].Langs {
		fmt.Fprintf(&b, "| %s | %d |", l, results[0].PerLang[l].Count)
		for _, r := range results {
			fmt.Fprintf(&b, " %.2f |", r.PerLang[l].Score())
		}
		b.WriteString("\n")
	}
	b.WriteString("| **macro** | |")
	for _, r := range results {
		fmt.Fprintf(&b, " **%.2f** |", r.Macro)
	}
	b.WriteString("\n")
	return b.String()
}
