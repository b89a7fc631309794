package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xqg/xqg/internal/testenv"
)

func TestBenchTradeoffUsage(t *testing.T) {
	t.Setenv("XQG_CONFIG", "")
	out := t.TempDir()
	for _, args := range [][]string{
		{"bench", "tradeoff"},
		{"bench", "tradeoff", "--out", out, "--shapes", "mt5-small"},
		{"bench", "tradeoff", "--out", out, "--shapes", "huge"},
		{"bench", "tradeoff", "--out", out, "--generator", "bert-base"},
		{"bench", "tradeoff", "--out", out, "--concurrency", "0"},
		{"bench", "tradeoff", "--out", out, "--requests", "0"},
		{"bench", "tradeoff", "--out", out, "--bogus"},
	} {
		if got := run_(args); got != 2 {
			t.Errorf("xqg %v exited %d, want 2", args, got)
		}
	}
}

// The cited figures join the M shape only, labelled as cited, and the plot is drawn from them.
func TestWriteTradeoffCitesThePaper(t *testing.T) {
	out := t.TempDir()
	o := tradeoffOpts{out: out, concurrency: []int{1, 8}, generator: "mt5-small", requests: 4, passages: 2, genQueries: 1, genTokens: 8}
	var rows []tradeoffRow
	for _, shape := range []string{"minilm-l12", "bert-base"} {
		for _, x := range []bool{false, true} {
			rows = append(rows, tradeoffRow{System: systemName(shape, x), Shape: shape, XQG: x,
				Query: map[int]latency{1: {N: 4, P50MS: 3, P95MS: 4, Throughput: 300}, 8: {N: 4, P50MS: 9, P95MS: 12, Throughput: 800}}})
		}
	}
	var sb strings.Builder
	if err := writeTradeoff(&sb, o, rows); err != nil {
		t.Fatal(err)
	}
	md := sb.String()
	for _, want := range []string{"| M bert-base | 3.0 / 4.0 | 300.0 | 9.0 / 12.0 | 800.0 | – | – | 0 | 44.2 (cited) |",
		"| M bert-base + xQG |", "46.2 (cited) |", "| S minilm-l12 + xQG |", "arXiv 2305.03950"} {
		if !strings.Contains(md, want) {
			t.Errorf("tradeoff.md lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(strings.Split(md, "| S minilm-l12 |")[1], "cited |\n| S minilm-l12 + xQG") {
		t.Errorf("the S shape got a cited figure:\n%s", md)
	}
	for _, f := range []string{"tradeoff.md", "tradeoff.json", "tradeoff.png", "tradeoff.svg"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("%s not written", f)
		}
	}
}

// A whole tradeoff run on the tiny models: real xqg serve, plugin and Weaviate.
func TestBenchTradeoffTiny(t *testing.T) {
	if testing.Short() {
		t.Skip("starts xqg serve and weaviate-server")
	}
	t.Setenv("XQG_CONFIG", "")
	wv := testenv.WeaviateBinary(t)
	out := t.TempDir()
	args := append([]string{"bench", "tradeoff", "--shapes", "tiny", "--generator", "tiny", "--requests", "6", "--passages", "2",
		"--concurrency", "1,4", "--gen-tokens", "4", "--weaviate-bin", wv, "--out", out}, embedArgs(t, false)...)
	if got := run_(args); got != 0 {
		t.Fatalf("xqg bench tradeoff exited %d", got)
	}
	b, err := os.ReadFile(filepath.Join(out, "tradeoff.json"))
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Rows []tradeoffRow `json:"rows"`
	}
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 2 || res.Rows[0].XQG || !res.Rows[1].XQG {
		t.Fatalf("rows %+v", res.Rows)
	}
	for _, r := range res.Rows {
		for _, c := range []int{1, 4} {
			if q := r.Query[c]; q.N != 6 || q.P50MS <= 0 || q.P95MS < q.P50MS || q.Throughput <= 0 {
				t.Errorf("%s c=%d: %+v", r.System, c, q)
			}
		}
		for _, target := range []string{"xqg", "passage"} {
			if l := r.NearText[target]; l.N != 6 || l.P50MS <= 0 {
				t.Errorf("%s nearText %s: %+v", r.System, target, l)
			}
		}
		if r.IndexMSPerPassage <= 0 || r.EffSource != "" {
			t.Errorf("%s: index %v ms, effectiveness %q", r.System, r.IndexMSPerPassage, r.EffSource)
		}
	}
}
