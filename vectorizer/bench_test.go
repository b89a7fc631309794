package vectorizer

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/xqg/xqg/config"
	"github.com/xqg/xqg/internal/cachedir"
	"github.com/xqg/xqg/internal/ortenv/orttest"
	"github.com/xqg/xqg/internal/tinymodels"
)

// benchModelDir writes a real-size encoder once into the cache dir (they are hundreds of MB to
// GB, so never into the repository or a temp dir that is rewritten every run).
func benchModelDir(b *testing.B, shape tinymodels.Shape) string {
	b.Helper()
	dir := cachedir.Sub("bench-models", tinymodels.Version, shape.Name)
	if _, err := os.Stat(filepath.Join(dir, "complete")); err == nil {
		return dir
	}
	// Folders written by an older tinymodels.Version are GBs of stale weights.
	if old, _ := filepath.Glob(cachedir.Sub("bench-models", "*", shape.Name)); len(old) > 0 {
		for _, o := range old {
			if o != dir {
				os.RemoveAll(o)
			}
		}
	}
	tmp := dir + ".tmp"
	os.RemoveAll(tmp)
	t0 := time.Now()
	if err := tinymodels.WriteEncoder(tmp, shape); err != nil {
		os.RemoveAll(tmp)
		b.Skipf("writing %s failed (disk space?): %v", shape.Name, err)
	}
	if err := os.WriteFile(filepath.Join(tmp, "complete"), nil, 0o644); err != nil {
		b.Skip(err)
	}
	os.RemoveAll(dir)
	if err := os.Rename(tmp, dir); err != nil {
		b.Skip(err)
	}
	b.Logf("wrote %s in %s", dir, time.Since(t0).Round(time.Millisecond))
	return dir
}

func peakRSSMB() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Maxrss) / 1024 // kilobytes on Linux
}

// benchText is about 64 tokens with the generated WordPiece vocabulary: a short passage.
var benchText = strings.TrimSpace(strings.Repeat("the capital of finland is helsinki and ", 8))

// BenchmarkEncode reports sequences/s per shape and batch size, and the Go-side overhead over
// the time spent inside ONNX Runtime's Run (target ≤ 5% at batch 32).
func BenchmarkEncode(b *testing.B) {
	orttest.Init(b)
	shapes := []tinymodels.Shape{tinymodels.TinyEncoder, tinymodels.MiniLML12, tinymodels.BERTBase, tinymodels.XLMRLarge}
	if s := os.Getenv("XQG_BENCH_SHAPES"); s != "" {
		var keep []tinymodels.Shape
		for _, sh := range shapes {
			if strings.Contains(","+s+",", ","+sh.Name+",") {
				keep = append(keep, sh)
			}
		}
		shapes = keep
	}
	for _, shape := range shapes {
		b.Run(shape.Name, func(b *testing.B) {
			var dir string
			if shape.Name == "tiny" {
				dir = tinyEncoderDir(b)
			} else {
				dir = benchModelDir(b, shape)
			}
			for _, bs := range []int{1, 8, 32} {
				b.Run(fmt.Sprintf("batch=%d", bs), func(b *testing.B) {
					c := config.Defaults().Encoder
					c.ModelDir, c.BatchSize = dir, bs
					e, err := Load(context.Background(), c)
					if err != nil {
						b.Fatal(err)
					}
					defer e.Close()
					in := make([]string, bs)
					for i := range in {
						in[i] = fmt.Sprintf("%d %s", i, benchText)
					}
					var run time.Duration
					tokens := 0
					b.ResetTimer()
					for b.Loop() {
						_, info, err := e.Encode(context.Background(), in)
						if err != nil {
							b.Fatal(err)
						}
						run += info.RunTime
						tokens = info.Tokens[0]
					}
					total := b.Elapsed()
					b.ReportMetric(float64(b.N*bs)/total.Seconds(), "seqs/s")
					b.ReportMetric(100*(total.Seconds()-run.Seconds())/run.Seconds(), "overhead_%")
					b.ReportMetric(float64(tokens), "tokens/seq")
					b.ReportMetric(peakRSSMB(), "peak_rss_MB")
				})
			}
		})
	}
}
