package augment

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/xqg/xqg/config"
	"github.com/xqg/xqg/internal/benchenv"
	"github.com/xqg/xqg/internal/ortenv/orttest"
	"github.com/xqg/xqg/internal/tinymodels"
)

// BenchmarkGenerate reports generated tokens/s with and without the key/value cache, for one
// row (one query in one language) and 35 rows (5 queries × 7 languages of one passage).
// XQG_BENCH_SHAPES=tiny|mt5-small selects the shape, XQG_BENCH_MAX_NEW the new-token budget (32).
func BenchmarkGenerate(b *testing.B) {
	orttest.Init(b)
	maxNew := 32
	if s := os.Getenv("XQG_BENCH_MAX_NEW"); s != "" {
		maxNew, _ = strconv.Atoi(s)
	}
	for _, shape := range benchenv.Shapes(b, []tinymodels.Shape{tinymodels.TinySeq2Seq, tinymodels.MT5Small}, tinymodels.TinySeq2Seq) {
		var dir string
		if shape.Name == tinymodels.TinySeq2Seq.Name {
			_, dir, _ = tinyDirs(b)
		} else {
			// mt5-small is ~2.5 GB with the decoder pair: each decoder file holds its own 250k-token
			// embedding and LM head.
			dir = benchenv.ModelDir(b, shape)
		}
		benchGenerate(b, shape.Name, dir, maxNew)
	}
}

func benchGenerate(b *testing.B, shapeName, dir string, maxNew int) {
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
				b.ReportMetric(benchenv.PeakRSSMB(), "peak_rss_MB")
			})
		}
	}
}
