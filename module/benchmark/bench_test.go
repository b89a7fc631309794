// Package benchmark measures `xqg serve` end to end: Weaviate-shaped HTTP requests through the module
// service and the real xqg-vectorizer plugin process. It is a separate package because the in-process
// baseline links ONNX Runtime (cgo), which the module package itself must not.
//
//	go test -run '^$' -bench . -benchtime 256x ./module/benchmark      # tiny model
//	XQG_BENCH_SHAPES=bert-base go test -run '^$' -bench . -benchtime 256x -timeout 60m ./module/benchmark
package benchmark

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xqg/xqg/internal/benchenv"
	"github.com/xqg/xqg/internal/ortenv/orttest"
	"github.com/xqg/xqg/internal/tinymodels"
	"github.com/xqg/xqg/module"
	"github.com/xqg/xqg/plugin"
	"github.com/xqg/xqg/plugin/host"
	"github.com/xqg/xqg/plugin/plugintest"
	"github.com/xqg/xqg/vectorizer"
)

func TestMain(m *testing.M) { os.Exit(plugintest.Main(m)) }

// shapes are the encoder sizes benchmarked: tiny by default (the HTTP and plugin hop dominate), and with
// XQG_BENCH_SHAPES=bert-base (or another tinymodels encoder shape) real sizes with generated weights.
func shapes(b *testing.B) []tinymodels.Shape {
	var encoders []tinymodels.Shape
	for _, name := range tinymodels.ShapeNames() {
		if sh := tinymodels.Shapes[name][0]; !sh.IsSeq2Seq() {
			encoders = append(encoders, sh)
		}
	}
	return benchenv.Shapes(b, encoders, tinymodels.TinyEncoder)
}

func encoderConfig(b *testing.B, shape tinymodels.Shape) plugin.BackendConfig {
	cfg := plugintest.Tiny(b, false)
	cfg.Encoder.ModelDir = benchenv.ModelDir(b, shape)
	cfg.Encoder.Threads = 0 // ONNX Runtime's default: every core, as `xqg serve` runs
	cfg.Encoder.BatchSize = 64
	return cfg
}

// query is a short search query, about 16 tokens, different per request so no layer can cache it.
func query(i int) string {
	return fmt.Sprintf("which city is the capital of finland and when was it founded %d", i)
}

func body(text string) []byte {
	b, _ := json.Marshal(map[string]any{"text": text, "dims": 0, "vector": nil, "error": "",
		"config": map[string]any{"pooling_strategy": "masked_mean", "task_type": "query"}})
	return b
}

type service struct {
	url    string
	client *http.Client
	srv    *module.Server
}

func startService(b *testing.B, h *host.Host, batchSize int) *service {
	b.Helper()
	s := module.New(module.Options{BatchSize: batchSize, BatchWait: 2 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	s.Attach(h)
	hs := httptest.NewServer(s.Handler())
	b.Cleanup(func() { hs.Close(); s.Close() })
	tr := &http.Transport{MaxIdleConnsPerHost: 256}
	svc := &service{url: hs.URL, client: &http.Client{Transport: tr, Timeout: time.Minute}, srv: s}
	for deadline := time.Now().Add(time.Minute); !s.Ready(); {
		if time.Now().After(deadline) {
			b.Fatal("service not ready")
		}
		time.Sleep(5 * time.Millisecond)
	}
	return svc
}

// batchTotals are the query task's backend batch-size sum and count so far, from /metrics.
func (s *service) batchTotals(b *testing.B) (sum, count float64) {
	res, err := s.client.Get(s.url + "/metrics")
	if err != nil {
		b.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	for _, l := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(l, `xqg_module_batch_size_sum{task="query"} `); ok {
			fmt.Sscan(v, &sum)
		}
		if v, ok := strings.CutPrefix(l, `xqg_module_batch_size_count{task="query"} `); ok {
			fmt.Sscan(v, &count)
		}
	}
	return sum, count
}

// vectorize sends one request the way Weaviate's transformers client does (no Content-Type).
func (s *service) vectorize(text string) error {
	req, err := http.NewRequest(http.MethodPost, s.url+"/vectors", bytes.NewReader(body(text)))
	if err != nil {
		return err
	}
	res, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode != 200 {
		return fmt.Errorf("status %d: %s", res.StatusCode, raw)
	}
	return nil
}

func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[int(p*float64(len(s)-1))]
}

// BenchmarkServeQueries reports query vectors/s through the service at concurrency 1, 8 and 64, with
// micro-batching (module.batch_size 32) and without (batch_size 1).
func BenchmarkServeQueries(b *testing.B) {
	for _, shape := range shapes(b) {
		b.Run(shape.Name, func(b *testing.B) {
			h := plugintest.Start(b, encoderConfig(b, shape), nil)
			for _, batching := range []struct {
				name string
				size int
			}{{"batching=off", 1}, {"batching=on", 32}} {
				b.Run(batching.name, func(b *testing.B) {
					for _, conc := range []int{1, 8, 64} {
						b.Run(fmt.Sprintf("concurrency=%d", conc), func(b *testing.B) {
							svc := startService(b, h, batching.size)
							// Warm the plugin's session and the connection pool.
							for i := range conc {
								if err := svc.vectorize(query(-i - 1)); err != nil {
									b.Fatal(err)
								}
							}
							sum0, count0 := svc.batchTotals(b)
							var next atomic.Int64
							lat := make([]time.Duration, b.N)
							var wg sync.WaitGroup
							errs := make(chan error, conc)
							b.ResetTimer()
							start := time.Now()
							for range conc {
								wg.Add(1)
								go func() {
									defer wg.Done()
									for {
										i := int(next.Add(1)) - 1
										if i >= b.N {
											return
										}
										t0 := time.Now()
										if err := svc.vectorize(query(i)); err != nil {
											errs <- err
											return
										}
										lat[i] = time.Since(t0)
									}
								}()
							}
							wg.Wait()
							elapsed := time.Since(start)
							b.StopTimer()
							close(errs)
							for err := range errs {
								b.Fatal(err)
							}
							b.ReportMetric(float64(b.N)/elapsed.Seconds(), "vectors/s")
							sum1, count1 := svc.batchTotals(b)
							b.ReportMetric((sum1-sum0)/max(count1-count0, 1), "mean-batch")
							b.ReportMetric(float64(percentile(lat, 0.5).Microseconds())/1000, "p50-ms")
							b.ReportMetric(float64(percentile(lat, 0.99).Microseconds())/1000, "p99-ms")
						})
					}
				})
			}
		})
	}
}

// BenchmarkHopLatency compares, at batch 1 and one caller, an in-process encoder call with the same
// query through HTTP, the service and the plugin process (batching off: no batch wait), and reports
// the p50 of each and their difference: what the service and the plugin hop add.
func BenchmarkHopLatency(b *testing.B) {
	orttest.Init(b)
	for _, shape := range shapes(b) {
		b.Run(shape.Name, func(b *testing.B) {
			cfg := encoderConfig(b, shape)
			enc, err := vectorizer.Load(context.Background(), cfg.Encoder)
			if err != nil {
				b.Fatal(err)
			}
			defer enc.Close()
			h := plugintest.Start(b, cfg, nil)
			svc := startService(b, h, 1)
			// Warm both.
			for i := range 8 {
				if _, _, err := enc.EncodeQueries(context.Background(), []string{query(-i - 1)}); err != nil {
					b.Fatal(err)
				}
				if err := svc.vectorize(query(-i - 1)); err != nil {
					b.Fatal(err)
				}
			}
			inproc := make([]time.Duration, b.N)
			served := make([]time.Duration, b.N)
			b.ResetTimer()
			// Interleaved, so drift in machine load affects both alike.
			for i := range b.N {
				t0 := time.Now()
				if _, _, err := enc.EncodeQueries(context.Background(), []string{query(i)}); err != nil {
					b.Fatal(err)
				}
				inproc[i] = time.Since(t0)
				t0 = time.Now()
				if err := svc.vectorize(query(i)); err != nil {
					b.Fatal(err)
				}
				served[i] = time.Since(t0)
			}
			b.StopTimer()
			pi, ps := percentile(inproc, 0.5), percentile(served, 0.5)
			b.ReportMetric(float64(pi.Microseconds())/1000, "inproc-p50-ms")
			b.ReportMetric(float64(ps.Microseconds())/1000, "served-p50-ms")
			b.ReportMetric(float64((ps-pi).Microseconds())/1000, "overhead-p50-ms")
		})
	}
}
