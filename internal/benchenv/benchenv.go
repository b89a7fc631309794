// Package benchenv is what the real-shape benchmarks share: the shapes XQG_BENCH_SHAPES selects,
// real-size model folders with generated weights, written once into the cache dir, and the peak RSS
// to report. It is test support: import it from _test.go files only (it imports testing).
//
//	for _, shape := range benchenv.Shapes(b, []tinymodels.Shape{tinymodels.TinyEncoder, tinymodels.BERTBase}) {
//		dir := benchenv.ModelDir(b, shape)
//		…
//		b.ReportMetric(benchenv.PeakRSSMB(), "peak_rss_MB")
//	}
package benchenv

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/xqg/xqg/internal/cachedir"
	"github.com/xqg/xqg/internal/tinymodels"
)

// EnvShapes selects shapes by name, comma-separated (tinymodels.Shapes' keys: tiny, bert-base, …).
const EnvShapes = "XQG_BENCH_SHAPES"

// Shapes returns the candidates named in $XQG_BENCH_SHAPES, in the candidates' order, or def when
// it is unset (all candidates when def is empty too). A name tinymodels does not know is a fatal
// typo; names of other benchmarks' shapes are ignored, so one setting can serve several packages'
// benchmarks, but a setting that leaves none of the candidates skips the benchmark.
func Shapes(tb testing.TB, candidates []tinymodels.Shape, def ...tinymodels.Shape) []tinymodels.Shape {
	tb.Helper()
	env := os.Getenv(EnvShapes)
	if env == "" {
		if len(def) > 0 {
			return def
		}
		return candidates
	}
	names := strings.Split(env, ",")
	for i, n := range names {
		names[i] = strings.TrimSpace(n)
		if _, ok := tinymodels.Shapes[names[i]]; !ok {
			tb.Fatalf("%s=%q: unknown shape %q (known: %s)", EnvShapes, env, names[i], strings.Join(tinymodels.ShapeNames(), ", "))
			return nil
		}
	}
	var out []tinymodels.Shape
	for _, s := range candidates {
		if slices.Contains(names, s.Name) {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		tb.Skipf("%s=%q selects none of this benchmark's shapes", EnvShapes, env)
	}
	return out
}

// ModelDir returns a model folder of shape: the tiny ones from tinymodels.Ensure, the others written
// once into <cache dir>/bench-models/<tinymodels.Version>/<name> (hundreds of MB to GBs: never the
// repository or a fresh temp dir). Seq2seq folders get the split decoder pair the generator loads.
// Folders of the shape from older Versions are removed, since they are GBs of stale weights. A
// folder that cannot be written (disk space) skips the benchmark.
func ModelDir(tb testing.TB, shape tinymodels.Shape) string {
	tb.Helper()
	if shape.Name == tinymodels.TinyEncoder.Name {
		enc, gen, err := tinymodels.Ensure(cachedir.Dir())
		if err != nil {
			tb.Fatalf("tiny models: %v", err)
		}
		if shape.IsSeq2Seq() {
			return gen
		}
		return enc
	}
	dir := cachedir.Sub("bench-models", tinymodels.Version, shape.Name)
	if _, err := os.Stat(filepath.Join(dir, "complete")); err == nil {
		return dir
	}
	if old, _ := filepath.Glob(cachedir.Sub("bench-models", "*", shape.Name)); len(old) > 0 {
		for _, o := range old {
			if o != dir {
				os.RemoveAll(o)
			}
		}
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		tb.Skipf("bench-models: %v", err)
	}
	// A temp dir of our own, so that two benchmark processes writing the same shape do not collide;
	// the first rename wins and the other's folder is as good.
	tmp, err := os.MkdirTemp(filepath.Dir(dir), shape.Name+".tmp-")
	if err != nil {
		tb.Skipf("bench-models: %v", err)
	}
	defer os.RemoveAll(tmp)
	t0 := time.Now()
	if shape.IsSeq2Seq() {
		err = tinymodels.WriteSeq2Seq(tmp, shape, tinymodels.WithLayout(tinymodels.LayoutSplit))
	} else {
		err = tinymodels.WriteEncoder(tmp, shape)
	}
	if err == nil {
		err = os.WriteFile(filepath.Join(tmp, "complete"), nil, 0o644)
	}
	if err != nil {
		tb.Skipf("writing the %s model failed (disk space?): %v", shape.Name, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "complete")); err == nil {
		return dir // another process finished first
	}
	os.RemoveAll(dir) // an incomplete folder, from a write that was interrupted
	if err := os.Rename(tmp, dir); err != nil {
		if _, serr := os.Stat(filepath.Join(dir, "complete")); serr != nil {
			tb.Skipf("bench-models: %v", err)
		}
	}
	tb.Logf("wrote %s in %s", dir, time.Since(t0).Round(time.Millisecond))
	return dir
}

// PeakRSSMB is this process's peak resident set size in MB (0 where getrusage fails).
func PeakRSSMB() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Maxrss) / 1024 // kilobytes on Linux
}
