package main

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/xqg/xqg/internal/ortenv"
	"github.com/xqg/xqg/plugin/plugintest"
	"github.com/xqg/xqg/vectorizer"
)

func TestMain(m *testing.M) { os.Exit(plugintest.Main(m)) }

// BenchmarkEmbedQueriesOverhead compares EmbedQueries through a real plugin process (gRPC over
// a Unix socket with mTLS, protobuf both ways) with the same encoder called in-process, at batch
// 1 and 32; the difference per call is the cost of running the models out of process.
// The tiny encoder keeps model time small so that the overhead shows; XQG_BENCH_ENCODER=<model
// folder> measures a real-size one instead.
//
//	go test ./cmd/xqg-vectorizer -run '^$' -bench EmbedQueriesOverhead -benchtime 2s
func BenchmarkEmbedQueriesOverhead(b *testing.B) {
	cfg := plugintest.Tiny(b, false)
	if dir := os.Getenv("XQG_BENCH_ENCODER"); dir != "" {
		cfg.Encoder.ModelDir = dir
	}
	cfg.Encoder.Threads = 1
	if err := ortenv.Init(cfg.ORT); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	enc, err := vectorizer.Load(ctx, cfg.Encoder)
	if err != nil {
		b.Fatal(err)
	}
	defer enc.Close()
	h := plugintest.Start(b, cfg, nil)

	for _, n := range []int{1, 32} {
		texts := make([]string, n)
		for i := range texts {
			texts[i] = fmt.Sprintf("what is the capital of finland, question %d", i)
		}
		b.Run(fmt.Sprintf("inprocess/batch=%d", n), func(b *testing.B) {
			for b.Loop() {
				if _, _, err := enc.EncodeQueries(ctx, texts); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "vectors/s")
		})
		b.Run(fmt.Sprintf("plugin/batch=%d", n), func(b *testing.B) {
			for b.Loop() {
				res, err := h.EmbedQueries(ctx, texts)
				if err != nil || res[0].Err != nil {
					b.Fatal(err, res[0].Err)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "vectors/s")
		})
	}
}
