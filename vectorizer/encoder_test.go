package vectorizer

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/xqg/xqg/config"
	"github.com/xqg/xqg/internal/ortenv/orttest"
	"github.com/xqg/xqg/internal/testenv"
	"github.com/xqg/xqg/internal/tinymodels"
)

var texts = []string{
	"Helsinki is the capital of Finland.",
	"short",
	"The quick brown fox jumps over the lazy dog, again and again, until the dog finally wakes up.",
	"a b c",
	"Tokyo",
	"Seoul is the capital and largest metropolis of South Korea.",
	"x",
	"Moscow Moscow Moscow",
	"one two three four five six seven eight nine ten",
}

var (
	tinyOnce sync.Once
	tinyDir  string
	tinyErr  error
)

// tinyEncoderDir writes the tiny encoder once per test binary (it takes milliseconds).
func tinyEncoderDir(t testing.TB) string {
	t.Helper()
	orttest.Init(t)
	tinyOnce.Do(func() {
		var base string
		if base, tinyErr = os.MkdirTemp("", "xqg-vectorizer-test-"); tinyErr != nil {
			return
		}
		tinyDir = filepath.Join(base, "encoder")
		tinyErr = tinymodels.WriteEncoder(tinyDir, tinymodels.TinyEncoder)
	})
	if tinyErr != nil {
		t.Fatalf("tiny encoder: %v", tinyErr)
	}
	return tinyDir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if tinyDir != "" {
		os.RemoveAll(filepath.Dir(tinyDir))
	}
	os.Exit(code)
}

func load(t testing.TB, mut func(*config.Encoder)) *Encoder {
	t.Helper()
	c := config.Defaults().Encoder
	c.ModelDir = tinyEncoderDir(t)
	c.Threads = 1
	if mut != nil {
		mut(&c)
	}
	e, err := Load(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func maxDiff(a, b []float32) float64 {
	d := 0.0
	for i := range a {
		d = math.Max(d, math.Abs(float64(a[i]-b[i])))
	}
	return d
}

func TestLoadReadsTheFolder(t *testing.T) {
	e := load(t, nil)
	if e.Dim() != tinymodels.TinyEncoder.Hidden {
		t.Errorf("Dim() = %d, want %d", e.Dim(), tinymodels.TinyEncoder.Hidden)
	}
	if e.Pooling() != "mean" {
		t.Errorf("Pooling() = %q, want mean from 1_Pooling/config.json", e.Pooling())
	}
	if got := e.inputNames(); len(got) != 3 {
		t.Errorf("inputs %v, want input_ids, attention_mask, token_type_ids", got)
	}
	id := e.Identity()
	if id.Name != "encoder" || len(id.SHA256) != 64 {
		t.Errorf("Identity() = %+v", id)
	}
	if cls := load(t, func(c *config.Encoder) { c.Pooling = "cls" }); cls.Pooling() != "cls" {
		t.Errorf("encoder.pooling did not override the pooling file: %q", cls.Pooling())
	}
}

func TestBatchedMatchesUnbatched(t *testing.T) {
	for _, pooling := range []string{"mean", "cls"} {
		t.Run(pooling, func(t *testing.T) {
			one := load(t, func(c *config.Encoder) { c.BatchSize = 1; c.Pooling = pooling })
			many := load(t, func(c *config.Encoder) { c.BatchSize = 4; c.Pooling = pooling })
			a, _, err := one.Encode(context.Background(), texts)
			if err != nil {
				t.Fatal(err)
			}
			b, info, err := many.Encode(context.Background(), texts)
			if err != nil {
				t.Fatal(err)
			}
			for i := range texts {
				if d := maxDiff(a[i], b[i]); d > 1e-5 {
					t.Errorf("text %d: batched and unbatched differ by %g", i, d)
				}
				if info.Tokens[i] < 3 {
					t.Errorf("text %d: %d tokens", i, info.Tokens[i])
				}
			}
			// Vectors of different texts must differ, or the comparison above proves nothing.
			if maxDiff(a[0], a[1]) < 1e-3 {
				t.Fatal("different texts gave the same vector")
			}
		})
	}
}

func TestPaddingDoesNotChangePooledVector(t *testing.T) {
	e := load(t, func(c *config.Encoder) { c.BatchSize = 2 })
	alone, _, err := e.Encode(context.Background(), []string{"x"})
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("padding forces many positions ", 8)
	padded, info, err := e.Encode(context.Background(), []string{long, "x"})
	if err != nil {
		t.Fatal(err)
	}
	if info.Tokens[0] <= info.Tokens[1]+10 {
		t.Fatalf("test text not long enough to pad: %v", info.Tokens)
	}
	if d := maxDiff(alone[0], padded[1]); d > 1e-5 {
		t.Fatalf("padding changed the vector by %g", d)
	}
}

func TestOrderNormalizeTruncatePrefix(t *testing.T) {
	ctx := context.Background()
	e := load(t, func(c *config.Encoder) {
		c.Normalize = true
		c.MaxLength = 8
		c.QueryPrefix = "query: "
	})
	ab, info, err := e.Encode(ctx, []string{"a b c", texts[2]})
	if err != nil {
		t.Fatal(err)
	}
	ba, _, err := e.Encode(ctx, []string{texts[2], "a b c"})
	if err != nil {
		t.Fatal(err)
	}
	if maxDiff(ab[0], ba[1]) > 1e-6 || maxDiff(ab[1], ba[0]) > 1e-6 {
		t.Fatal("results not in input order")
	}
	for i, v := range ab {
		var n float64
		for _, x := range v {
			n += float64(x) * float64(x)
		}
		if math.Abs(n-1) > 1e-5 {
			t.Errorf("vector %d has squared norm %g", i, n)
		}
	}
	if info.Truncated[0] || !info.Truncated[1] || info.Tokens[1] != 8 {
		t.Errorf("truncation: %v tokens %v, want [false true] and 8 tokens", info.Truncated, info.Tokens)
	}
	q, _, err := e.EncodeQueries(ctx, []string{"a b c"})
	if err != nil {
		t.Fatal(err)
	}
	manual, _, err := e.Encode(ctx, []string{"query: a b c"})
	if err != nil {
		t.Fatal(err)
	}
	if maxDiff(q[0], manual[0]) > 1e-6 || maxDiff(q[0], ab[0]) < 1e-4 {
		t.Error("query_prefix not applied")
	}
}

func TestConcurrentEncode(t *testing.T) {
	e := load(t, func(c *config.Encoder) { c.BatchSize = 3 })
	want, _, err := e.Encode(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			in := texts[g%len(texts):]
			got, _, err := e.Encode(context.Background(), in)
			if err != nil {
				t.Error(err)
				return
			}
			for i := range in {
				if d := maxDiff(got[i], want[g%len(texts)+i]); d > 1e-5 {
					t.Errorf("goroutine %d text %d differs by %g", g, i, d)
				}
			}
		}()
	}
	wg.Wait()
}

func TestEncodeCancelled(t *testing.T) {
	e := load(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := e.Encode(ctx, texts); !errors.Is(err, context.Canceled) {
		t.Fatalf("Encode with a cancelled context: %v", err)
	}
}

func TestLoadNamesTheBadFile(t *testing.T) {
	src := tinyEncoderDir(t)
	tests := []struct {
		name   string
		break_ func(dir string) error
		want   string
	}{
		{"missing model", func(d string) error { return os.Remove(filepath.Join(d, ModelFile)) }, "model.onnx: missing"},
		{"missing tokenizer", func(d string) error { return os.Remove(filepath.Join(d, TokenizerFile)) }, "tokenizer.json: missing"},
		{"missing config", func(d string) error { return os.Remove(filepath.Join(d, ConfigFile)) }, "config.json: missing"},
		{"bad config", func(d string) error { return os.WriteFile(filepath.Join(d, ConfigFile), []byte("{"), 0o644) }, "config.json: not valid JSON"},
		{"bad tokenizer", func(d string) error {
			return os.WriteFile(filepath.Join(d, TokenizerFile), []byte(`{"model":{"type":"nope"}}`), 0o644)
		}, "tokenizer.json"},
		{"bad model", func(d string) error { return os.WriteFile(filepath.Join(d, ModelFile), []byte("not onnx"), 0o644) }, "model.onnx: not a loadable ONNX model"},
		{"max pooling", func(d string) error {
			return os.WriteFile(filepath.Join(d, PoolingFile), []byte(`{"pooling_mode_max_tokens":true}`), 0o644)
		}, "1_Pooling/config.json: only"},
		{"hidden size mismatch", func(d string) error {
			return os.WriteFile(filepath.Join(d, ConfigFile), []byte(`{"hidden_size":7}`), 0o644)
		}, "says hidden_size 7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := testenv.CopyDir(t, src)
			if err := tt.break_(dir); err != nil {
				t.Fatal(err)
			}
			c := config.Defaults().Encoder
			c.ModelDir = dir
			e, err := Load(context.Background(), c)
			if err == nil {
				e.Close()
				t.Fatal("Load succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

// A tokenizer.json without a post-processor yields no tokens for a text it normalises away;
// Encode must name that text instead of pooling padding or nothing.
func TestEncodeRejectsTextWithNoTokens(t *testing.T) {
	dir := testenv.CopyDir(t, tinyEncoderDir(t))
	p := filepath.Join(dir, TokenizerFile)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var tj map[string]any
	if err := json.Unmarshal(b, &tj); err != nil {
		t.Fatal(err)
	}
	tj["post_processor"] = nil
	if b, err = json.Marshal(tj); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	e := load(t, func(c *config.Encoder) { c.ModelDir = dir })
	if _, _, err := e.Encode(context.Background(), []string{"Helsinki", "kept"}); err != nil {
		t.Fatalf("texts with tokens: %v", err)
	}
	_, _, err = e.Encode(context.Background(), []string{"Helsinki", ""})
	if err == nil || !strings.Contains(err.Error(), "text 1") || !strings.Contains(err.Error(), "no tokens") {
		t.Fatalf("empty text without special tokens: got %v, want an error naming text 1", err)
	}
}
