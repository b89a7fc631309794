package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xqg/xqg/attack"
	"github.com/xqg/xqg/internal/testenv"
	"github.com/xqg/xqg/plugin/plugintest"
)

// Paraphrase by the generator through the real plugin: deterministic, different from the query, in
// the generator's output for the query's language; a language the generator does not make is an error.
func TestGeneratorParaphraser(t *testing.T) {
	skipShort(t)
	cfg := plugintest.Tiny(t, true)
	cfg.Generator.Languages = []string{"ar", "ru"}
	h := plugintest.Start(t, cfg, nil)
	ctx := ctxT(t, time.Minute)
	p := attack.GeneratorParaphraser{V: h}
	for _, c := range []struct{ text, lang string }{{"ما هي عاصمة فنلندا؟", "ar"}, {"Какая столица Финляндии?", "ru"}} {
		a, err := p.Paraphrase(ctx, c.text, c.lang)
		if err != nil {
			t.Fatal(err)
		}
		b, err := p.Paraphrase(ctx, c.text, c.lang)
		if err != nil {
			t.Fatal(err)
		}
		if a == "" || a == c.text || a != b {
			t.Errorf("%s: paraphrases %q and %q of %q", c.lang, a, b, c.text)
		}
	}
	if _, err := p.Paraphrase(ctx, "Mikä on Suomen pääkaupunki?", "fi"); err == nil || !strings.Contains(err.Error(), "no fi queries") {
		t.Errorf("paraphrase in a language the generator does not make: %v", err)
	}
	// Perturb through the paraphraser, as attack generate runs it.
	out, err := attack.Perturb(ctx, "Какая столица Финляндии?", "ru", attack.Paraphrase, attack.RNG(1, "q", attack.Paraphrase), attack.Options{Paraphraser: p})
	if err != nil || out == "Какая столица Финляндии?" {
		t.Errorf("Perturb paraphrase: %q %v", out, err)
	}
}

// runXQG runs the xqg binary with XQG_CONFIG cleared and returns its combined output and exit code.
func runXQG(t *testing.T, ctx context.Context, bin string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "XQG_CONFIG=")
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return buf.String(), ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return buf.String(), 0
}

// Research question (2) end to end through the CLI: XQuAD questions about 20 paragraphs, attacked by
// deletion, diacritic removal and paraphrase by the generator, scored clean vs attacked on both named
// vectors through Weaviate, per language and family with bootstrap CIs.
func TestAttackScoreEndToEnd(t *testing.T) {
	data := filepath.Join(testenv.SharedData(t), "xquad")
	svc, _ := startService(t, true)
	srv := serviceWeaviate(t, svc)
	ctx := ctxT(t, 3*time.Minute)
	common := []string{"--config", svc.config, "--set", "weaviate.url=" + srv.URL(), "--set", "weaviate.grpc_address=" + srv.GRPCAddr(),
		"--set", "weaviate.service_url=" + svc.URL(), "--set", "weaviate.collection=Robust",
		"--dataset", "xquad", "--data", data, "--lang", "ar,ru", "--max-passages", "20", "--max-queries", "8"}
	args := func(cmd ...string) []string { return append(cmd, common...) }
	if o, code := runXQG(t, ctx, svc.bin, args("eval", "corpus", "--via-weaviate", "--work-dir", t.TempDir())...); code != 0 {
		t.Fatalf("eval corpus exited %d:\n%s", code, o)
	}
	attacked := filepath.Join(t.TempDir(), "attacked.jsonl")
	if o, code := runXQG(t, ctx, svc.bin, args("attack", "generate", "--types", "delete,diacritics,paraphrase", "--seed", "3", "--out", attacked)...); code != 0 {
		t.Fatalf("attack generate exited %d:\n%s", code, o)
	}
	as, err := attack.LoadJSONL(attacked)
	if err != nil {
		t.Fatal(err)
	}
	count := map[attack.Type]int{}
	for _, a := range as {
		count[a.Type]++
		if a.Text == a.Original || len(a.Relevant) != 1 || a.ID != a.OrigID+"#"+string(a.Type) {
			t.Errorf("attacked query %+v", a)
		}
	}
	// 8 questions per language: every one can lose a grapheme and be paraphrased.
	if count[attack.Delete] != 16 || count[attack.Paraphrase] != 16 {
		t.Errorf("attacked queries per type %v", count)
	}
	out := t.TempDir()
	o, code := runXQG(t, ctx, svc.bin, args("attack", "score", "--attacked", attacked, "--out", out, "-k", "5", "--rounds", "200")...)
	if code != 0 || !strings.Contains(o, "### paraphrase") || !strings.Contains(o, "| Afro-Asiatic | xqg |") {
		t.Fatalf("attack score exited %d:\n%s", code, o)
	}
	b, err := os.ReadFile(filepath.Join(out, "robustness.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rows []attack.Row
	if err := json.Unmarshal(b, &rows); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, r := range rows {
		seen[r.Target+"/"+string(r.Type)+"/"+r.Group] = r.N
		for _, c := range []struct {
			name string
			v    float64
		}{{"clean", r.Clean.Value}, {"attacked", r.Attacked.Value}, {"success", r.SuccessRate.Value}, {"clean lo", r.Clean.Lo}, {"clean hi", r.Clean.Hi}} {
			if c.v < 0 || c.v > 100 {
				t.Errorf("%s/%s/%s %s = %v", r.Target, r.Type, r.Group, c.name, c.v)
			}
		}
		if r.Clean.Lo > r.Clean.Value || r.Clean.Hi < r.Clean.Value {
			t.Errorf("%s/%s/%s clean CI %+v", r.Target, r.Type, r.Group, r.Clean)
		}
	}
	for _, target := range []string{"passage", "xqg"} {
		for key, n := range map[string]int{"delete/ar": 8, "delete/Afro-Asiatic": 8, "delete/Slavic": 8, "delete/all": 16, "paraphrase/ru": 8, "paraphrase/all": 16} {
			if seen[target+"/"+key] != n {
				t.Errorf("%s/%s: n = %d, want %d", target, key, seen[target+"/"+key], n)
			}
		}
	}
	for _, f := range []string{"robustness.md", "drop-delete.png", "drop-paraphrase.svg"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("attack score did not write %s", f)
		}
	}
	if o, code := runXQG(t, ctx, svc.bin, args("attack", "score", "--out", out)...); code != 2 {
		t.Errorf("attack score without --attacked exited %d:\n%s", code, o)
	}
	if o, code := runXQG(t, ctx, svc.bin, args("attack", "score", "--attacked", attacked, "--out", out, "--level", "2")...); code != 2 {
		t.Errorf("attack score --level 2 exited %d:\n%s", code, o)
	}
}
