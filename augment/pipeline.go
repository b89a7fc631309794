package augment

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"sync/atomic"
	"time"

	"github.com/xqg/xqg/config"
	"github.com/xqg/xqg/vectorizer"
)

// Pipeline turns passages into fused xQG vectors: queries come precomputed, from the cache, or
// from the generator (then cached); passage and queries are embedded and fused. It is safe for
// concurrent use.
type Pipeline struct {
	enc   *vectorizer.Encoder
	gen   *Generator  // nil: only passages with precomputed queries can be augmented
	cache *QueryCache // nil: no cache
	aug   config.Augment

	generated, cacheHits, precomputed atomic.Int64
}

// Options select what Embed returns besides the fused vector.
type Options struct {
	// WithParts adds the plain passage vector, the queries and their vectors to each Result.
	WithParts bool
	// PlainOnly skips queries and fusion: Vector is E(p), the same encoding WithParts returns as
	// Passage on the fused path, and nothing is generated, looked up or cached (Source is "none").
	PlainOnly bool
}

// Result is one passage's output, in input order.
type Result struct {
	ID string `json:"id"`
	// Vector is the fused vector, (1-α)·E(p) + α·Σ E(q) (or the configured mode).
	Vector []float32 `json:"vector"`
	// Passage is E(p), only with Options.WithParts.
	Passage []float32 `json:"passage,omitempty"`
	// Queries and QueryVectors (same shape) only with Options.WithParts.
	Queries      Queries                `json:"queries,omitempty"`
	QueryVectors map[string][][]float32 `json:"query_vectors,omitempty"`
	// Source is where the queries came from: precomputed, cache or generated; none with PlainOnly.
	Source string `json:"source"`
	// Truncated reports that the passage was longer than encoder.max_length.
	Truncated bool `json:"truncated"`
	// GenerationTime is this passage's share of the batch's generation time (Source generated).
	GenerationTime time.Duration `json:"generation_time,omitempty"`
}

// Stats count where queries came from since the pipeline was made.
type Stats struct {
	Generated   int64 `json:"generated"`
	CacheHits   int64 `json:"cache_hits"`
	Precomputed int64 `json:"precomputed"`
}

// NewPipeline wires an encoder (required), a generator and a cache (both optional).
func NewPipeline(enc *vectorizer.Encoder, gen *Generator, cache *QueryCache, aug config.Augment) (*Pipeline, error) {
	if enc == nil {
		return nil, errors.New("augment: pipeline needs an encoder")
	}
	if _, err := Fuse([]float32{1}, nil, aug.Alpha, aug.Mode, false); err != nil {
		return nil, fmt.Errorf("augment: %w", err)
	}
	return &Pipeline{enc: enc, gen: gen, cache: cache, aug: aug}, nil
}

// Stats reports query provenance counts.
func (p *Pipeline) Stats() Stats {
	return Stats{Generated: p.generated.Load(), CacheHits: p.cacheHits.Load(), Precomputed: p.precomputed.Load()}
}

// queries returns every passage's queries (precomputed, cached or generated), where each came from,
// and the generation time per generated passage (its share of the one batch); the missing ones are
// generated in one batch and cached.
func (p *Pipeline) queries(ctx context.Context, ps []Passage) ([]Queries, []string, time.Duration, error) {
	qs := make([]Queries, len(ps))
	src := make([]string, len(ps))
	var missing []int
	var keys []CacheKey // of the missing passages, built once for the lookup and the store
	for i, ps := range ps {
		switch {
		case len(ps.Queries) > 0:
			qs[i], src[i] = ps.Queries, "precomputed"
			p.precomputed.Add(1)
		case p.gen == nil:
			return nil, nil, 0, fmt.Errorf("passage %d (id %q): no generated_queries and no generator configured (generator.model_dir)", i, ps.ID)
		default:
			key := p.gen.CacheKey(ps)
			if p.cache != nil {
				if q, ok := p.cache.Get(key); ok {
					qs[i], src[i] = q, "cache"
					p.cacheHits.Add(1)
					continue
				}
			}
			missing = append(missing, i)
			keys = append(keys, key)
		}
	}
	if len(missing) == 0 {
		return qs, src, 0, nil
	}
	todo := make([]Passage, len(missing))
	for k, i := range missing {
		todo[k] = ps[i]
	}
	start := time.Now()
	gen, _, err := p.gen.Generate(ctx, todo)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("generate queries: %w", err)
	}
	perPassage := time.Since(start) / time.Duration(len(missing))
	for k, i := range missing {
		qs[i], src[i] = gen[k], "generated"
		p.generated.Add(1)
		if p.cache != nil {
			if err := p.cache.Put(keys[k], gen[k]); err != nil {
				// The queries are in hand; a cache that cannot be written only costs a regeneration later.
				slog.Warn("query cache: entry not stored", "id", ps[i].ID, "err", err)
			}
		}
	}
	return qs, src, perPassage, nil
}

// PassageText is what the encoder sees of a passage: "title text", as the release's
// Tevatron-style encoding joins them.
func PassageText(p Passage) string {
	if p.Title == "" {
		return p.Text
	}
	return p.Title + " " + p.Text
}

// Embed returns one Result per passage, in order.
func (p *Pipeline) Embed(ctx context.Context, ps []Passage, opts Options) ([]Result, error) {
	if len(ps) == 0 {
		return nil, nil
	}
	for i, x := range ps {
		if x.Text == "" {
			return nil, fmt.Errorf("passage %d (id %q): text is empty", i, x.ID)
		}
	}
	if opts.PlainOnly {
		return p.embedPlain(ctx, ps, opts)
	}
	qs, src, genPerPassage, err := p.queries(ctx, ps)
	if err != nil {
		return nil, err
	}
	pvecs, pinfo, err := p.encodePassages(ctx, ps)
	if err != nil {
		return nil, err
	}
	// All queries of all passages in one call, so the encoder batches across passages.
	type ref struct {
		passage int
		lang    string
	}
	var flat []string
	var refs []ref
	langOrders := make([][]string, len(ps))
	for i, q := range qs {
		langOrders[i] = p.langOrder(q)
		for _, l := range langOrders[i] {
			for _, s := range q[l] {
				flat = append(flat, s)
				refs = append(refs, ref{i, l})
			}
		}
	}
	qvecs, _, err := p.enc.EncodeQueries(ctx, flat)
	if err != nil {
		return nil, fmt.Errorf("encode queries: %w", err)
	}
	perPassage := make([][][]float32, len(ps))
	byLang := make([]map[string][][]float32, len(ps))
	for k, r := range refs {
		perPassage[r.passage] = append(perPassage[r.passage], qvecs[k])
		if opts.WithParts {
			if byLang[r.passage] == nil {
				byLang[r.passage] = map[string][][]float32{}
			}
			byLang[r.passage][r.lang] = append(byLang[r.passage][r.lang], qvecs[k])
		}
	}
	out := make([]Result, len(ps))
	for i := range ps {
		v, err := Fuse(pvecs[i], perPassage[i], p.aug.Alpha, p.aug.Mode, p.aug.Normalize)
		if err != nil {
			return nil, fmt.Errorf("passage %d (id %q): %w", i, ps[i].ID, err)
		}
		out[i] = Result{ID: ps[i].ID, Vector: v, Source: src[i], Truncated: pinfo.Truncated[i]}
		if src[i] == "generated" {
			out[i].GenerationTime = genPerPassage
		}
		if opts.WithParts {
			out[i].Passage, out[i].Queries, out[i].QueryVectors = pvecs[i], qs[i], byLang[i]
		}
	}
	return out, nil
}

// encodePassages is E(p) for each passage, the one encoding both the fused and the plain path use.
func (p *Pipeline) encodePassages(ctx context.Context, ps []Passage) ([][]float32, vectorizer.Info, error) {
	texts := make([]string, len(ps))
	for i, x := range ps {
		texts[i] = PassageText(x)
	}
	vecs, info, err := p.enc.EncodePassages(ctx, texts)
	if err != nil {
		return nil, info, fmt.Errorf("encode passages: %w", err)
	}
	return vecs, info, nil
}

// embedPlain is Embed with Options.PlainOnly: the generator and the cache are not touched, so a
// plain vector costs one encoder call whether or not the passage's queries were ever generated.
func (p *Pipeline) embedPlain(ctx context.Context, ps []Passage, opts Options) ([]Result, error) {
	pvecs, pinfo, err := p.encodePassages(ctx, ps)
	if err != nil {
		return nil, err
	}
	out := make([]Result, len(ps))
	for i := range ps {
		out[i] = Result{ID: ps[i].ID, Vector: pvecs[i], Source: "none", Truncated: pinfo.Truncated[i]}
		if opts.WithParts {
			out[i].Passage = pvecs[i]
		}
	}
	return out, nil
}

// langOrder is the generator's language order, then any other languages of q sorted, so the
// sum is taken in a stable order.
func (p *Pipeline) langOrder(q Queries) []string {
	var order []string
	if p.gen != nil {
		for _, l := range p.gen.cfg.Languages {
			if _, ok := q[l]; ok {
				order = append(order, l)
			}
		}
	}
	var rest []string
	for l := range q {
		if !slices.Contains(order, l) {
			rest = append(rest, l)
		}
	}
	sort.Strings(rest)
	return append(order, rest...)
}
