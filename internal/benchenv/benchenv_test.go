package benchenv

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xqg/xqg/internal/cachedir"
	"github.com/xqg/xqg/internal/tinymodels"
)

// recorder stands in for a benchmark's testing.TB so that Skipf and Fatalf can be observed.
type recorder struct {
	testing.TB
	skipped, fatal string
}

func (r *recorder) Helper()                      {}
func (r *recorder) Skipf(f string, args ...any)  { r.skipped = fmt.Sprintf(f, args...) }
func (r *recorder) Fatalf(f string, args ...any) { r.fatal = fmt.Sprintf(f, args...) }
func (r *recorder) Logf(string, ...any)          {}
func names(ss []tinymodels.Shape) (out []string) {
	for _, s := range ss {
		out = append(out, s.Name)
	}
	return out
}

func TestShapes(t *testing.T) {
	cands := []tinymodels.Shape{tinymodels.TinyEncoder, tinymodels.BERTBase, tinymodels.XLMRLarge}
	tests := []struct {
		env         string
		def         []tinymodels.Shape
		want        string
		skip, fatal bool
	}{
		{env: "", want: "tiny bert-base xlmr-large"},
		{env: "", def: []tinymodels.Shape{tinymodels.TinyEncoder}, want: "tiny"},
		{env: "xlmr-large,tiny", want: "tiny xlmr-large"}, // candidates' order
		{env: "bert-base, mt5-small", want: "bert-base"},  // another benchmark's shape is ignored
		{env: "mt5-small", skip: true},                    // none of ours
		{env: "bert-bse", fatal: true},                    // a typo
	}
	for _, tt := range tests {
		t.Run(tt.env, func(t *testing.T) {
			t.Setenv(EnvShapes, tt.env)
			r := &recorder{TB: t}
			got := strings.Join(names(Shapes(r, cands, tt.def...)), " ")
			if (r.skipped != "") != tt.skip || (r.fatal != "") != tt.fatal {
				t.Fatalf("skipped %q, fatal %q; want skip %v, fatal %v", r.skipped, r.fatal, tt.skip, tt.fatal)
			}
			if !tt.skip && !tt.fatal && got != tt.want {
				t.Errorf("Shapes = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestModelDir writes a small non-tiny shape once: the second call finds it, and folders of older
// tinymodels versions are removed.
func TestModelDir(t *testing.T) {
	t.Setenv("XQG_CACHE_DIR", t.TempDir())
	shape := tinymodels.TinyEncoder
	shape.Name = "bench-small"
	stale := cachedir.Sub("bench-models", "v0-old", shape.Name)
	if err := os.MkdirAll(stale, 0o755); err != nil {
		t.Fatal(err)
	}
	dir := ModelDir(t, shape)
	if want := cachedir.Sub("bench-models", tinymodels.Version, shape.Name); dir != want {
		t.Fatalf("ModelDir = %s, want %s", dir, want)
	}
	r, err := tinymodels.Check(dir)
	if err != nil || r.Err() != nil || r.Kind != tinymodels.KindEncoder {
		t.Fatalf("written folder: %v %v", err, r.Err())
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale folder %s kept: %v", stale, err)
	}
	marker := filepath.Join(dir, "complete")
	st, _ := os.Stat(marker)
	if again := ModelDir(t, shape); again != dir {
		t.Fatalf("second ModelDir = %s", again)
	}
	if st2, err := os.Stat(marker); err != nil || !st2.ModTime().Equal(st.ModTime()) {
		t.Error("the second call rewrote the folder")
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(dir), "*.tmp-*")); len(left) > 0 {
		t.Errorf("temporary folders left: %v", left)
	}
	if PeakRSSMB() <= 0 {
		t.Error("no peak RSS")
	}
}
