package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestEvalScoreCommand(t *testing.T) {
	dir := t.TempDir()
	answers := writeFile(t, dir, "answers.jsonl", `{"id":"1","question":"q1","answers":["Helsinki"],"lang":"fi"}
{"id":"2","question":"q2","answers":["Turku"],"lang":"fi"}
{"id":"3","question":"q3","answers":["Moscow"],"lang":"ru"}
{"id":"4","question":"q4","answers":["yes"],"lang":"ru"}
`)
	run := writeFile(t, dir, "run.json", `[
 {"id":"1","lang":"fi","ctxs":["Helsinki is the capital of Finland."]},
 {"id":"2","lang":"fi","ctxs":["Nothing relevant."]},
 {"id":"3","lang":"ru","ctxs":["far far away", "Moscow."]},
 {"id":"4","lang":"ru","ctxs":["yes"]}
]`)
	jsonOut := filepath.Join(dir, "scores.json")
	cmd := newEvalCmd(&globalFlags{})
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetArgs([]string{"score", "--run", run, "--answers", answers, "--max-tokens", "3,2000", "--json", jsonOut})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	// fi: 1/2 at both cut-offs; ru: Moscow is token 4, a miss at 3 tokens.
	for _, want := range []string{"| fi | 2 | 50.00 | 50.00 |", "| ru | 1 | 0.00 | 100.00 |", "| **macro** | | **25.00** | **75.00** |"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	var res []struct {
		MaxTokens int     `json:"max_tokens"`
		Macro     float64 `json:"macro"`
	}
	b, err := os.ReadFile(jsonOut)
	if err != nil || json.Unmarshal(b, &res) != nil || len(res) != 2 || res[1].Macro != 75 {
		t.Errorf("json output %s: %v", b, err)
	}

	t.Setenv("XQG_CONFIG", "")
	codes := []struct {
		args []string
		want int
	}{
		{[]string{"eval", "score", "--run", run}, 2},
		{[]string{"eval", "score", "--run", run, "--answers", answers, "--max-tokens", "x"}, 2},
		{[]string{"eval", "score", "--run", filepath.Join(dir, "none.json"), "--answers", answers}, 2},
		{[]string{"eval", "score", "--run", answers, "--answers", answers}, 2},
		{[]string{"eval", "score", "--run", run, "--answers", answers}, 0},
	}
	for _, c := range codes {
		if got := run_(c.args); got != c.want {
			t.Errorf("xqg %v exited %d, want %d", c.args, got, c.want)
		}
	}
}

// run_ runs the CLI with stdout silenced.
func run_(args []string) int {
	old := os.Stdout
	devnull, _ := os.Open(os.DevNull)
	os.Stdout = devnull
	defer func() { os.Stdout = old; devnull.Close() }()
	return run(args)
}

func TestAttackGenerateCommand(t *testing.T) {
	dir := t.TempDir()
	queries := writeFile(t, dir, "q.jsonl", `{"id":"1","question":"Mikä on Suomen pääkaupunki?","answers":["Helsinki"],"lang":"fi"}
{"id":"2","question":"한국의 수도는 어디입니까?","answers":["Seoul"],"lang":"ko"}
`)
	gen := func(seed string) string {
		out := filepath.Join(dir, "out"+seed+".jsonl")
		cmd := newAttackCmd(&globalFlags{})
		cmd.SetErr(&bytes.Buffer{})
		cmd.SetArgs([]string{"generate", "--queries", queries, "--seed", seed, "--types", "insert,keyboard,segment", "--out", out})
		if err := cmd.Execute(); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	a, b, c := gen("7"), gen("7"), gen("8")
	if a != b || a == c {
		t.Errorf("determinism: same seed equal=%v, different seeds equal=%v", a == b, a == c)
	}
	lines := strings.Split(strings.TrimSpace(a), "\n")
	// insert: 2, keyboard: 2 (fi, ko), segment: 1 (ko only).
	if len(lines) != 5 {
		t.Fatalf("%d lines:\n%s", len(lines), a)
	}
	var first struct {
		ID, Question, Lang, OrigID, Attack, Original string
		Answers                                      []string
	}
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	if first.ID != "1#insert" || first.Question == first.Original || first.Answers[0] != "Helsinki" {
		t.Errorf("first line %+v", first)
	}
	t.Setenv("XQG_CONFIG", "")
	if got := run_([]string{"attack", "generate", "--queries", queries, "--types", "bogus"}); got != 2 {
		t.Errorf("bogus type exited %d, want 2", got)
	}
	if got := run_([]string{"attack", "generate", "--queries", queries, "--types", "paraphrase"}); got != 2 {
		t.Errorf("paraphrase exited %d, want 2", got)
	}
}
