package module

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/xqg/xqg/plugin"
)

// hashBackend is a small deterministic Backend for the HTTP and batching layer's unit tests: a text's
// vector is derived from its sha256, the fused vector differs from the plain one, and every call is
// recorded. The contract and concurrency tests also run against the real plugin (real_test.go).
type hashBackend struct {
	dim     int
	healthy atomic.Bool
	// block, when set, holds every embed call until it is closed.
	block chan struct{}
	// delay is spent in every embed call, like a forward pass.
	delay time.Duration

	mu             sync.Mutex
	passageBatches []int
	queryBatches   []int
	generated      int
	calls          atomic.Int64
}

func newHashBackend(dim int) *hashBackend {
	b := &hashBackend{dim: dim}
	b.healthy.Store(true)
	return b
}

func hashVector(prefix, text string, dim int) []float32 {
	v := make([]float32, dim)
	var norm float64
	for i := range v {
		h := sha256.Sum256([]byte(fmt.Sprintf("%s|%d|%s", prefix, i, text)))
		x := float64(binary.LittleEndian.Uint32(h[:4]))/float64(math.MaxUint32) - 0.5
		v[i] = float32(x)
		norm += x * x
	}
	for i := range v {
		v[i] /= float32(math.Sqrt(norm))
	}
	return v
}

func (b *hashBackend) Info(context.Context) (plugin.Info, error) {
	return plugin.Info{
		Encoder: plugin.ModelInfo{Name: "hash-encoder", MaxLength: 16}, Generator: plugin.ModelInfo{Name: "hash-generator"},
		Dimension: b.dim, Generation: true, Languages: []string{"ar", "ja"}, QueriesPerLanguage: 2, Alpha: 0.01,
		FusionMode: "sum", Backend: "hash",
	}, nil
}

func (b *hashBackend) wait(ctx context.Context) error {
	b.calls.Add(1)
	time.Sleep(b.delay)
	if b.block == nil {
		return nil
	}
	select {
	case <-b.block:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// truncated mimics a max length of 16 words.
func truncated(text string) bool { return len(strings.Fields(text)) > 16 }

func (b *hashBackend) EmbedPassages(ctx context.Context, ps []plugin.Passage, opts plugin.Options) ([]plugin.PassageResult, error) {
	if err := b.wait(ctx); err != nil {
		return nil, err
	}
	if !b.healthy.Load() {
		return nil, fmt.Errorf("%w: plugin restarting", plugin.ErrUnavailable)
	}
	b.mu.Lock()
	b.passageBatches = append(b.passageBatches, len(ps))
	b.generated += len(ps)
	b.mu.Unlock()
	out := make([]plugin.PassageResult, len(ps))
	for i, p := range ps {
		if strings.Contains(p.Text, "REJECT") {
			out[i] = plugin.PassageResult{ID: p.ID, Err: fmt.Errorf("%w: passage %s rejected", plugin.ErrInvalidInput, p.ID)}
			continue
		}
		out[i] = plugin.PassageResult{ID: p.ID, Vector: hashVector("fused", p.Text, b.dim), Truncated: truncated(p.Text)}
		if opts.WithParts {
			out[i].PassageVector = hashVector("passage", p.Text, b.dim)
		}
	}
	return out, nil
}

func (b *hashBackend) EmbedQueries(ctx context.Context, texts []string) ([]plugin.QueryResult, error) {
	if err := b.wait(ctx); err != nil {
		return nil, err
	}
	if !b.healthy.Load() {
		return nil, fmt.Errorf("%w: plugin restarting", plugin.ErrUnavailable)
	}
	b.mu.Lock()
	b.queryBatches = append(b.queryBatches, len(texts))
	b.mu.Unlock()
	out := make([]plugin.QueryResult, len(texts))
	for i, t := range texts {
		if t == "PANIC" {
			panic("hash backend told to panic")
		}
		out[i] = plugin.QueryResult{Vector: hashVector("query", t, b.dim), Truncated: truncated(t)}
	}
	return out, nil
}

func (b *hashBackend) Health(context.Context) error {
	if !b.healthy.Load() {
		return fmt.Errorf("%w: down", plugin.ErrUnavailable)
	}
	return nil
}

func (b *hashBackend) Restarts() int { return 3 }

func (b *hashBackend) maxQueryBatch() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	m := 0
	for _, n := range b.queryBatches {
		m = max(m, n)
	}
	return m
}
