package augment

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/xqg/xqg/config"
	"github.com/xqg/xqg/internal/cachedir"
	"github.com/xqg/xqg/internal/ortenv/orttest"
	"github.com/xqg/xqg/internal/tinymodels"
)

// benchSeq2SeqDir writes a real-size seq2seq folder once into the cache dir (mt5-small is ~2.5 GB
// with the decoder pair: each decoder file holds its own 250k-token embedding and LM head).
func benchSeq2SeqDir(b *testing.B, shape tinymodels.Shape) string {
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
	if err := tinymodels.WriteSeq2Seq(tmp, shape, tinymodels.WithLayout(tinymodels.LayoutSplit)); err != nil {
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

// BenchmarkGenerate reports generated tokens/s with and without the key/value cache, for one
// row (one query in one language) and 35 rows (5 queries × 7 languages of one passage).
// XQG_BENCH_SHAPES=tiny|mt5-small selects the shape, XQG_BENCH_MAX_NEW the new-token budget (32).
func BenchmarkGenerate(b *testing.B) {
	orttest.Init(b)
	shapeName := os.Getenv("XQG_BENCH_SHAPES")
	if shapeName == "" {
		shapeName = "tiny"
	}
	maxNew := 32
	if s := os.Getenv("XQG_BENCH_MAX_NEW"); s != "" {
		maxNew, _ = strconv.Atoi(s)
	}
	var dir string
	switch shapeName {
	case "tiny":
		_, dir, _ = tinyDirs(b)
	case "mt5-small":
		dir = benchSeq2SeqDir(b, tinymodels.MT5Small)
	default:
		b.Skipf("unknown shape %q", shapeName)
	}
	p := []Passage{{Title: "Helsinki", Text: "Helsinki is the capital and most populous city of Finland, on the shore of the Gulf of Finland."}}
	for _, rows := range []struct {
		name  string
		langs []string
		n     int
	}{{"batch=1", []string{"fi"}, 1}, {"batch=35", config.Defaults().Generator.Languages, 5}} {
		for _, cache := range []bool{true, false} {
			b.Run(fmt.Sprintf("%s/%s/cache=%v", shapeName, rows.name, cache), func(b *testing.B) {
				c := config.Defaults().Generator
				c.ModelDir, c.Languages, c.QueriesPerLanguage, c.MaxNewTokens = dir, rows.langs, rows.n, maxNew
				g, err := LoadGenerator(context.Background(), c, GeneratorOptions{DisableKVCache: !cache})
				if err != nil {
					b.Fatal(err)
				}
				defer g.Close()
				tokens := 0
				var run time.Duration
				for b.Loop() {
					_, info, err := g.Generate(context.Background(), p)
					if err != nil {
						b.Fatal(err)
					}
					tokens += info.NewTokens
					run += info.RunTime
				}
				total := b.Elapsed()
				b.ReportMetric(float64(tokens)/total.Seconds(), "tokens/s")
				b.ReportMetric(float64(tokens)/float64(b.N), "tokens/op")
				b.ReportMetric(100*(total.Seconds()-run.Seconds())/run.Seconds(), "overhead_%")
				b.ReportMetric(peakRSSMB(), "peak_rss_MB")
			})
		}
	}
}
