package main

import (
	"path/filepath"
	"testing"

	"github.com/xqg/xqg/internal/testenv"
)

// Flag and dataset problems are usage errors (exit 2), found before anything connects to Weaviate.
func TestEvalRunAndCorpusUsage(t *testing.T) {
	t.Setenv("XQG_CONFIG", "")
	dir := t.TempDir()
	queries := writeFile(t, dir, "q.jsonl", `{"id":"1","question":"q1","answers":["Helsinki"],"lang":"fi"}`+"\n")
	xquad := filepath.Join(testenv.RepoRoot(), "..", "shared", "data", "xquad")
	out := filepath.Join(dir, "out")
	cases := []struct {
		args []string
		want int
	}{
		{[]string{"eval", "run", "--dataset", "xquad", "--data", xquad}, 2},                                           // no --out
		{[]string{"eval", "run", "--out", out}, 2},                                                                    // no --dataset
		{[]string{"eval", "run", "--out", out, "--dataset", "squad"}, 2},                                              // unknown dataset
		{[]string{"eval", "run", "--out", out, "--dataset", "xquad"}, 2},                                              // no --data
		{[]string{"eval", "run", "--out", out, "--dataset", "xor"}, 2},                                                // no --queries
		{[]string{"eval", "run", "--out", out, "--dataset", "xquad", "--data", filepath.Join(dir, "none")}, 2},        // missing folder
		{[]string{"eval", "run", "--out", out, "--dataset", "xor", "--queries", filepath.Join(dir, "none.jsonl")}, 2}, // missing file
		{[]string{"eval", "run", "--out", out, "--dataset", "xor", "--queries", queries, "--lang", "ru"}, 2},          // no query left
		{[]string{"eval", "run", "--out", out, "--dataset", "xor", "--queries", queries, "--targets", "xqg,bogus"}, 2},
		{[]string{"eval", "run", "--out", out, "--dataset", "xor", "--queries", queries, "--max-tokens", "0"}, 2},
		{[]string{"eval", "run", "--out", out, "--dataset", "xor", "--queries", queries, "-k", "0"}, 2},
		{[]string{"eval", "run", "--out", out, "--dataset", "xor", "--queries", queries, "--max-passages", "-1"}, 2},
		{[]string{"eval", "run", "--out", out, "--dataset", "xor", "--queries", queries, "--no-such-flag"}, 2},
		{[]string{"eval", "corpus", "--dataset", "xor", "--queries", queries}, 2}, // xor ingest needs --corpus
		{[]string{"eval", "corpus", "--dataset", "xor", "--queries", queries, "--batch-size", "0"}, 2},
		{[]string{"eval", "corpus", "--dataset", "xor", "--queries", queries, "--corpus", "x.tsv", "--via-weaviate"}, 2}, // no service_url
	}
	for _, c := range cases {
		if got := run_(c.args); got != c.want {
			t.Errorf("xqg %v exited %d, want %d", c.args, got, c.want)
		}
	}
}

func TestAttackScoreUsage(t *testing.T) {
	t.Setenv("XQG_CONFIG", "")
	dir := t.TempDir()
	queries := writeFile(t, dir, "q.jsonl", `{"id":"1","question":"q1","answers":["Helsinki"],"lang":"fi"}`+"\n")
	attacked := writeFile(t, dir, "a.jsonl", `{"id":"1#delete","question":"q","answers":["Helsinki"],"lang":"fi","orig_id":"1","attack":"delete"}`+"\n")
	out := filepath.Join(dir, "out")
	for _, args := range [][]string{
		{"attack", "score", "--queries", queries, "--out", out},
		{"attack", "score", "--queries", queries, "--attacked", attacked},
		{"attack", "score", "--attacked", attacked, "--out", out},
		{"attack", "score", "--queries", queries, "--attacked", queries, "--out", out}, // not an attacked file
		{"attack", "score", "--queries", queries, "--attacked", attacked, "--out", out, "--targets", "x"},
		{"attack", "score", "--queries", queries, "--attacked", attacked, "--out", out, "-k", "0"},
		{"attack", "score", "--queries", queries, "--attacked", attacked, "--out", out, "--level", "1"},
		{"attack", "score", "--queries", queries, "--attacked", attacked, "--out", out, "--dataset", "nope"},
		{"attack", "generate", "--dataset", "xquad"},
	} {
		if got := run_(args); got != 2 {
			t.Errorf("xqg %v exited %d, want 2", args, got)
		}
	}
}
