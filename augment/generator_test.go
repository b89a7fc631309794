package augment

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/xqg/xqg/config"
	"github.com/xqg/xqg/internal/ortenv/orttest"
	"github.com/xqg/xqg/internal/testenv"
	"github.com/xqg/xqg/internal/tinymodels"
)

var (
	tinyOnce sync.Once
	tinyBase string
	tinyErr  error
)

// tinyDirs writes the tiny models once per test binary: an encoder, a seq2seq folder with the
// decoder pair and one with only the merged decoder.
func tinyDirs(t testing.TB) (enc, split, merged string) {
	t.Helper()
	orttest.Init(t)
	tinyOnce.Do(func() {
		if tinyBase, tinyErr = os.MkdirTemp("", "xqg-augment-test-"); tinyErr != nil {
			return
		}
		if tinyErr = tinymodels.WriteEncoder(filepath.Join(tinyBase, "encoder"), tinymodels.TinyEncoder); tinyErr != nil {
			return
		}
		if tinyErr = tinymodels.WriteSeq2Seq(filepath.Join(tinyBase, "split"), tinymodels.TinySeq2Seq,
			tinymodels.WithLayout(tinymodels.LayoutSplit)); tinyErr != nil {
			return
		}
		tinyErr = tinymodels.WriteSeq2Seq(filepath.Join(tinyBase, "merged"), tinymodels.TinySeq2Seq,
			tinymodels.WithLayout(tinymodels.LayoutMerged))
	})
	if tinyErr != nil {
		t.Fatalf("tiny models: %v", tinyErr)
	}
	return filepath.Join(tinyBase, "encoder"), filepath.Join(tinyBase, "split"), filepath.Join(tinyBase, "merged")
}

func TestMain(m *testing.M) {
	code := m.Run()
	if tinyBase != "" {
		os.RemoveAll(tinyBase)
	}
	os.Exit(code)
}

func testGenConfig(dir string, mut func(*config.Generator)) config.Generator {
	c := config.Defaults().Generator
	c.ModelDir = dir
	c.Languages = []string{"fi", "ja"}
	c.QueriesPerLanguage = 3
	c.MaxNewTokens = 8
	c.Threads = 1
	if mut != nil {
		mut(&c)
	}
	return c
}

func loadGen(t testing.TB, c config.Generator, opts GeneratorOptions) *Generator {
	t.Helper()
	g, err := LoadGenerator(context.Background(), c, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Close)
	return g
}

var passages = []Passage{
	{ID: "p1", Title: "Helsinki", Text: "Helsinki is the capital of Finland."},
	{ID: "p2", Title: "", Text: "Tokyo is the capital of Japan and its largest city."},
	{ID: "p3", Title: "Seoul", Text: "Seoul has about ten million inhabitants."},
}

func testPrompts(t *testing.T, g *Generator) []prompt {
	var out []prompt
	for pi, p := range passages {
		text, err := BuildPrompt(g.cfg.PromptTemplate, "fi", p.Title, p.Text)
		if err != nil {
			t.Fatal(err)
		}
		e := g.tok.Encode(text, true)
		ids := make([]int64, len(e.IDs))
		for i, id := range e.IDs {
			ids[i] = int64(id)
		}
		out = append(out, prompt{passage: pi, lang: "fi", ids: ids})
	}
	return out
}

// TestDecoderLogitsWithAndWithoutCache feeds the same tokens through decoder_with_past (and the
// merged decoder) and through decoder_model on the whole prefix, and compares every step's logits.
func TestDecoderLogitsWithAndWithoutCache(t *testing.T) {
	_, split, merged := tinyDirs(t)
	full := loadGen(t, testGenConfig(split, nil), GeneratorOptions{DisableKVCache: true})
	for name, dir := range map[string]string{"split": split, "merged": merged} {
		t.Run(name, func(t *testing.T) {
			cached := loadGen(t, testGenConfig(dir, nil), GeneratorOptions{})
			if name == "merged" && cached.merged == nil {
				t.Fatal("merged folder did not load the merged decoder")
			}
			ctx := context.Background()
			var info GenInfo
			prompts := testPrompts(t, cached)
			rowPrompt := []int{0, 0, 1, 2}
			states := make([]*decoderState, 2)
			logits := make([][]float32, 2)
			var v int
			for k, g := range []*Generator{cached, full} {
				e, err := g.encode(nil, prompts, &info)
				if err != nil {
					t.Fatal(err)
				}
				defer e.destroy()
				ds, l, vv, err := g.start(nil, e, rowPrompt, &info)
				if err != nil {
					t.Fatal(err)
				}
				defer ds.destroy()
				states[k], logits[k], v = ds, l, vv
			}
			_ = ctx
			for step := 0; step < 6; step++ {
				if d := maxAbsDiff(logits[0], logits[1]); d > 1e-4 {
					t.Fatalf("step %d: logits differ by %g", step, d)
				}
				// Feed a different token per row, not just the argmax, to exercise the cache.
				next := make([]int64, len(rowPrompt))
				for r := range next {
					next[r] = int64((argmax(logits[0][r*v:(r+1)*v]) + r*step) % v)
				}
				for k := range states {
					l, _, err := states[k].step(nil, next, &info)
					if err != nil {
						t.Fatal(err)
					}
					logits[k] = l
				}
			}
		})
	}
}

func maxAbsDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	d := 0.0
	for i := range a {
		d = math.Max(d, math.Abs(float64(a[i]-b[i])))
	}
	return d
}

func TestGeneratedIDsIdenticalWithAndWithoutCache(t *testing.T) {
	_, split, merged := tinyDirs(t)
	for _, strategy := range []string{"sample", "greedy", "beam"} {
		t.Run(strategy, func(t *testing.T) {
			c := testGenConfig(split, func(c *config.Generator) { c.Strategy = strategy; c.NumBeams = 3 })
			withCache, _, err := loadGen(t, c, GeneratorOptions{}).Generate(context.Background(), passages)
			if err != nil {
				t.Fatal(err)
			}
			without, _, err := loadGen(t, c, GeneratorOptions{DisableKVCache: true}).Generate(context.Background(), passages)
			if err != nil {
				t.Fatal(err)
			}
			c.ModelDir = merged
			viaMerged, _, err := loadGen(t, c, GeneratorOptions{}).Generate(context.Background(), passages)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(withCache, without) || !reflect.DeepEqual(withCache, viaMerged) {
				t.Fatalf("cache changes the output:\nwith    %q\nwithout %q\nmerged  %q", withCache, without, viaMerged)
			}
			for i, q := range withCache {
				if len(q) != 2 || len(q["fi"]) != 3 || len(q["ja"]) != 3 {
					t.Fatalf("passage %d: %v, want 3 queries in fi and ja", i, q)
				}
			}
		})
	}
}

func TestSeedDeterminism(t *testing.T) {
	_, split, _ := tinyDirs(t)
	c := testGenConfig(split, nil)
	g := loadGen(t, c, GeneratorOptions{})
	ctx := context.Background()
	all, info, err := g.Generate(ctx, passages)
	if err != nil {
		t.Fatal(err)
	}
	if info.NewTokens == 0 || info.Steps == 0 {
		t.Fatalf("info %+v", info)
	}
	again, _, err := g.Generate(ctx, passages)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(all, again) {
		t.Fatal("same seed, different queries")
	}
	// Batch composition must not matter: the last passage alone, with batch size 1.
	c1 := c
	c1.BatchSize = 1
	alone, _, err := loadGen(t, c1, GeneratorOptions{}).Generate(ctx, passages[2:])
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(alone[0], all[2]) {
		t.Fatalf("batching changed the queries:\nbatched %q\nalone   %q", all[2], alone[0])
	}
	c2 := c
	c2.Seed = c.Seed + 1
	other, _, err := loadGen(t, c2, GeneratorOptions{}).Generate(ctx, passages)
	if err != nil {
		t.Fatal(err)
	}
	if reflect.DeepEqual(all, other) {
		t.Fatal("another seed gave the same queries")
	}
	t.Logf("queries of %s: %q", passages[0].ID, all[0])
	// The n queries of one language are drawn independently, so they should not all coincide.
	q := all[0]["fi"]
	if q[0] == q[1] && q[1] == q[2] {
		t.Fatalf("three identical samples %q", q)
	}
}

func TestGenerateCancelled(t *testing.T) {
	_, split, _ := tinyDirs(t)
	g := loadGen(t, testGenConfig(split, nil), GeneratorOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := g.Generate(ctx, passages); err != context.Canceled {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}

func TestLoadGeneratorNamesTheBadFile(t *testing.T) {
	_, split, _ := tinyDirs(t)
	tests := []struct {
		name   string
		break_ func(dir string) error
		want   string
	}{
		{"missing encoder", func(d string) error { return os.Remove(filepath.Join(d, EncoderModelFile)) }, "encoder_model.onnx: missing"},
		{"missing decoders", func(d string) error { return os.Remove(filepath.Join(d, DecoderWithPastFile)) }, "decoder_model_merged.onnx: missing"},
		{"missing tokenizer", func(d string) error { return os.Remove(filepath.Join(d, "tokenizer.json")) }, "tokenizer.json: missing"},
		{"bad config", func(d string) error { return os.WriteFile(filepath.Join(d, "config.json"), []byte("[1,"), 0o644) }, "config.json: not valid JSON"},
		{"bad generation config", func(d string) error {
			return os.WriteFile(filepath.Join(d, GenerationConfigFile), []byte(`{"eos_token_id":"x"}`), 0o644)
		}, "generation_config.json: eos_token_id"},
		{"wrong layer count", func(d string) error {
			return os.WriteFile(filepath.Join(d, "config.json"), []byte(`{"num_decoder_layers":5,"num_heads":4,"d_kv":8}`), 0o644)
		}, "decoder_with_past_model.onnx: model has no input \"past_key_values.2"},
		{"garbage decoder", func(d string) error { return os.WriteFile(filepath.Join(d, DecoderModelFile), []byte("x"), 0o644) }, "decoder_model.onnx: not a loadable ONNX model"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := testenv.CopyDir(t, split)
			if err := tt.break_(dir); err != nil {
				t.Fatal(err)
			}
			g, err := LoadGenerator(context.Background(), testGenConfig(dir, nil), GeneratorOptions{})
			if err == nil {
				g.Close()
				t.Fatal("LoadGenerator succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}
