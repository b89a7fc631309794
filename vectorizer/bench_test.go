package vectorizer

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/xqg/xqg/config"
	"github.com/xqg/xqg/internal/benchenv"
	"github.com/xqg/xqg/internal/ortenv/orttest"
	"github.com/xqg/xqg/internal/tinymodels"
)

// benchText is about 64 tokens with the generated WordPiece vocabulary: a short passage.
var benchText = strings.TrimSpace(strings.Repeat("the capital of finland is helsinki and ", 8))

// BenchmarkEncode reports sequences/s per shape and batch size, and the Go-side overhead over
// the time spent inside ONNX Runtime's Run (target ≤ 5% at batch 32).
func BenchmarkEncode(b *testing.B) {
	orttest.Init(b)
	shapes := benchenv.Shapes(b, []tinymodels.Shape{tinymodels.TinyEncoder, tinymodels.MiniLML12, tinymodels.BERTBase, tinymodels.XLMRLarge})
	for _, shape := range shapes {
		b.Run(shape.Name, func(b *testing.B) {
			var dir string
			if shape.Name == "tiny" {
				dir = tinyEncoderDir(b)
			} else {
				dir = benchenv.ModelDir(b, shape) // hundreds of MB to GB: written once into the cache dir
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
					b.ReportMetric(benchenv.PeakRSSMB(), "peak_rss_MB")
				})
			}
		})
	}
}
