package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/xqg/xqg/augment"
	"github.com/xqg/xqg/internal/ortenv"
	"github.com/xqg/xqg/internal/versions"
	"github.com/xqg/xqg/plugin"
	"github.com/xqg/xqg/vectorizer"
)

// backend is the ONNX Runtime implementation of plugin.Vectorizer: augment.Pipeline (generation,
// query cache, encoding, fusion) for passages, the encoder alone for queries.
type backend struct {
	cfg  plugin.BackendConfig
	enc  *vectorizer.Encoder
	gen  *augment.Generator // nil: passages without given queries are encoded plain
	pipe *augment.Pipeline
	info plugin.Info

	closeOnce sync.Once
}

var _ plugin.Vectorizer = (*backend)(nil)

func configure(ctx context.Context, cfg plugin.BackendConfig) (plugin.Vectorizer, error) {
	if err := ortenv.Init(cfg.ORT); err != nil {
		return nil, err
	}
	enc, err := vectorizer.Load(ctx, cfg.Encoder)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", plugin.ErrInvalidInput, err)
	}
	b := &backend{cfg: cfg, enc: enc}
	var cache *augment.QueryCache
	if cfg.Generator.ModelDir != "" {
		if b.gen, err = augment.LoadGenerator(ctx, cfg.Generator, augment.GeneratorOptions{}); err != nil {
			enc.Close()
			return nil, fmt.Errorf("%w: %v", plugin.ErrInvalidInput, err)
		}
		if cache, err = augment.OpenCache(augment.QueriesDir(cfg.Cache.Dir)); err != nil {
			b.Close()
			return nil, fmt.Errorf("cache.dir: %w", err)
		}
	}
	if b.pipe, err = augment.NewPipeline(enc, b.gen, cache, cfg.Augment); err != nil {
		b.Close()
		return nil, fmt.Errorf("%w: %v", plugin.ErrInvalidInput, err)
	}
	id := enc.Identity()
	b.info = plugin.Info{
		Encoder: plugin.ModelInfo{Name: id.Name, Path: cfg.Encoder.ModelDir, SHA256: id.SHA256,
			MaxLength: enc.MaxLength(), Pooling: enc.Pooling()},
		Dimension:          enc.Dim(),
		Generation:         b.gen != nil,
		Languages:          cfg.Generator.Languages,
		QueriesPerLanguage: cfg.Generator.QueriesPerLanguage,
		MaxBatch:           max(cfg.Encoder.BatchSize, 1),
		Alpha:              cfg.Augment.Alpha,
		FusionMode:         cfg.Augment.Mode,
		Normalize:          cfg.Augment.Normalize,
		Provider:           ortenv.Provider(),
		Versions: map[string]string{
			"xqg": versions.Version, "onnxruntime": ortenv.Version(),
			"protocol": fmt.Sprint(plugin.ProtocolVersion),
		},
		Backend: "xqg-vectorizer/onnxruntime",
	}
	if b.gen != nil {
		gid := b.gen.Identity()
		b.info.Generator = plugin.ModelInfo{Name: gid.Name, Path: cfg.Generator.ModelDir, SHA256: gid.SHA256}
	}
	slog.Info("models loaded", "encoder", id.String(), "dimension", enc.Dim(), "generator", b.info.Generator.Name,
		"provider", b.info.Provider, "onnxruntime", b.info.Versions["onnxruntime"])
	return b, nil
}

func (b *backend) Close() error {
	var err error
	b.closeOnce.Do(func() {
		if b.gen != nil {
			b.gen.Close()
		}
		err = b.enc.Close()
	})
	return err
}

func (b *backend) Info(context.Context) (plugin.Info, error) { return b.info, nil }

func (b *backend) Health(context.Context) error { return nil }

// checkText is the per-item validation both paths share.
func checkText(what, s string) error {
	switch {
	case !utf8.ValidString(s):
		return fmt.Errorf("%w: %s is not valid UTF-8", plugin.ErrInvalidInput, what)
	case strings.TrimSpace(s) == "":
		return fmt.Errorf("%w: %s is empty", plugin.ErrInvalidInput, what)
	}
	return nil
}

func (b *backend) EmbedQueries(ctx context.Context, texts []string) ([]plugin.QueryResult, error) {
	out := make([]plugin.QueryResult, len(texts))
	var good []string
	var at []int
	for i, t := range texts {
		if err := checkText(fmt.Sprintf("texts[%d]", i), t); err != nil {
			out[i].Err = err
			continue
		}
		good = append(good, t)
		at = append(at, i)
	}
	if len(good) == 0 {
		return out, nil
	}
	vecs, info, err := b.enc.EncodeQueries(ctx, good)
	if err != nil {
		return nil, fmt.Errorf("encode queries: %w", err)
	}
	for j, i := range at {
		out[i] = plugin.QueryResult{Vector: vecs[j], Truncated: info.Truncated[j]}
	}
	return out, nil
}

func (b *backend) EmbedPassages(ctx context.Context, passages []plugin.Passage, opts plugin.Options) ([]plugin.PassageResult, error) {
	out := make([]plugin.PassageResult, len(passages))
	// Passages go through the pipeline when they have queries or can get them; without a
	// generator, those without given queries are encoded plain (Info.Generation is false), and
	// with PlainOnly all are.
	var aug, plain []int
	for i, p := range passages {
		out[i].ID = p.ID
		if err := b.checkPassage(i, p); err != nil {
			out[i].Err = err
			continue
		}
		if opts.PlainOnly || (b.gen == nil && len(p.Queries) == 0) {
			plain = append(plain, i)
		} else {
			aug = append(aug, i)
		}
	}
	if len(plain) > 0 {
		ps := make([]augment.Passage, len(plain))
		for k, i := range plain {
			ps[k] = toAugment(passages[i])
		}
		res, err := b.pipe.Embed(ctx, ps, augment.Options{PlainOnly: true})
		if err != nil {
			return nil, err
		}
		for k, i := range plain {
			r := &out[i]
			r.Vector, r.Truncated, r.CacheHit = res[k].Vector, res[k].Truncated, true
			if opts.WithParts {
				r.PassageVector = res[k].Vector
			}
		}
	}
	if len(aug) == 0 {
		return out, nil
	}
	ps := make([]augment.Passage, len(aug))
	for k, i := range aug {
		ps[k] = toAugment(passages[i])
	}
	res, err := b.pipe.Embed(ctx, ps, augment.Options{WithParts: opts.WithParts})
	if err != nil {
		return nil, err
	}
	for k, i := range aug {
		r, x := &out[i], res[k]
		r.Vector, r.Truncated = x.Vector, x.Truncated
		r.CacheHit = x.Source != "generated"
		r.GenerationTime = x.GenerationTime
		if opts.WithParts {
			r.PassageVector, r.Queries, r.QueryVectors = x.Passage, x.Queries, x.QueryVectors
		}
	}
	return out, nil
}

func toAugment(p plugin.Passage) augment.Passage {
	return augment.Passage{ID: p.ID, Title: p.Title, Text: p.Text, Queries: augment.Queries(p.Queries)}
}

func (b *backend) checkPassage(i int, p plugin.Passage) error {
	if err := checkText(fmt.Sprintf("passages[%d].text", i), p.Text); err != nil {
		return err
	}
	if !utf8.ValidString(p.Title) {
		return fmt.Errorf("%w: passages[%d].title is not valid UTF-8", plugin.ErrInvalidInput, i)
	}
	for lang, qs := range p.Queries {
		for k, q := range qs {
			if !utf8.ValidString(q) {
				return fmt.Errorf("%w: passages[%d].generated_queries.%s[%d] is not valid UTF-8", plugin.ErrInvalidInput, i, lang, k)
			}
		}
	}
	return nil
}
