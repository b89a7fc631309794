package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/xqg/xqg/augment"
	"github.com/xqg/xqg/internal/ortenv"
	"github.com/xqg/xqg/internal/versions"
	"github.com/xqg/xqg/plugin"
	"github.com/xqg/xqg/vectorizer"
)

// backend is the ONNX Runtime implementation of plugin.Vectorizer.
type backend struct {
	cfg  plugin.BackendConfig
	enc  *vectorizer.Encoder
	gen  generator // nil: passages are encoded plain (plus any queries the caller gives)
	info plugin.Info

	closeOnce sync.Once
}

var _ plugin.Vectorizer = (*backend)(nil)

// generator is what the backend needs from the query generator.
type generator interface {
	// Generate returns, for each passage, the queries for each of langs, with whether they came from the cache.
	Generate(ctx context.Context, passages []plugin.Passage, langs []string) ([]augment.Queries, []bool, error)
	Name() string
	Path() string
	SHA256() string
	Close() error
}

func configure(ctx context.Context, cfg plugin.BackendConfig) (plugin.Vectorizer, error) {
	if err := ortenv.Init(cfg.ORT); err != nil {
		return nil, err
	}
	enc, err := vectorizer.Load(ctx, cfg.Encoder)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", plugin.ErrInvalidInput, err)
	}
	b := &backend{cfg: cfg, enc: enc}
	if cfg.Generator.ModelDir != "" {
		g, err := openGenerator(ctx, cfg)
		if err != nil {
			enc.Close()
			return nil, fmt.Errorf("%w: %v", plugin.ErrInvalidInput, err)
		}
		b.gen = g
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
		b.info.Generator = plugin.ModelInfo{Name: b.gen.Name(), Path: b.gen.Path(), SHA256: b.gen.SHA256()}
	}
	return b, nil
}

func (b *backend) Close() error {
	var err error
	b.closeOnce.Do(func() {
		if b.gen != nil {
			err = b.gen.Close()
		}
		err = errors.Join(err, b.enc.Close())
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

// passageText is what the encoder sees of a passage: the title, when there is one, before the text.
func passageText(p plugin.Passage) string {
	if t := strings.TrimSpace(p.Title); t != "" {
		return t + " " + p.Text
	}
	return p.Text
}

func (b *backend) EmbedPassages(ctx context.Context, passages []plugin.Passage, opts plugin.Options) ([]plugin.PassageResult, error) {
	out := make([]plugin.PassageResult, len(passages))
	var good []int
	for i, p := range passages {
		out[i].ID = p.ID
		if err := b.checkPassage(i, p); err != nil {
			out[i].Err = err
			continue
		}
		good = append(good, i)
	}
	if len(good) == 0 {
		return out, nil
	}

	// Queries per passage: the given ones, plus generated ones for configured languages not given.
	queries := make([]augment.Queries, len(passages))
	cacheHit := make([]bool, len(passages))
	var genAt []int
	var missing [][]string
	for _, i := range good {
		q := augment.Queries{}
		for lang, qs := range passages[i].Queries {
			q[lang] = qs
		}
		queries[i] = q
		cacheHit[i] = true
		if b.gen == nil {
			continue
		}
		var langs []string
		for _, l := range b.cfg.Generator.Languages {
			if _, ok := q[l]; !ok {
				langs = append(langs, l)
			}
		}
		if len(langs) > 0 {
			genAt = append(genAt, i)
			missing = append(missing, langs)
		}
	}
	genTime := make([]time.Duration, len(passages))
	if len(genAt) > 0 {
		// Passages missing the same languages (the common case: all of them) go in one call.
		groups := map[string][]int{}
		var order []string
		for k, i := range genAt {
			key := strings.Join(missing[k], ",")
			if _, ok := groups[key]; !ok {
				order = append(order, key)
			}
			groups[key] = append(groups[key], i)
		}
		for _, key := range order {
			idx := groups[key]
			ps := make([]plugin.Passage, len(idx))
			for j, i := range idx {
				ps[j] = passages[i]
			}
			start := time.Now()
			gen, hits, err := b.gen.Generate(ctx, ps, strings.Split(key, ","))
			if err != nil {
				return nil, fmt.Errorf("generate queries: %w", err)
			}
			per := time.Since(start) / time.Duration(len(idx))
			for j, i := range idx {
				for l, qs := range gen[j] {
					queries[i][l] = qs
				}
				cacheHit[i] = cacheHit[i] && hits[j]
				if !hits[j] {
					genTime[i] = per
				}
			}
		}
	}

	// One encoder call for all passages, one for all queries (embedded as queries, as in xQG).
	ptexts := make([]string, len(good))
	for j, i := range good {
		ptexts[j] = passageText(passages[i])
	}
	pvecs, pinfo, err := b.enc.EncodePassages(ctx, ptexts)
	if err != nil {
		return nil, fmt.Errorf("encode passages: %w", err)
	}
	type qref struct {
		lang string
		k    int
	}
	var qtexts []string
	qrefs := make([][]qref, len(passages))
	for _, i := range good {
		for _, lang := range sortedLangs(queries[i]) {
			for k, q := range queries[i][lang] {
				if strings.TrimSpace(q) == "" {
					continue // an empty generation carries no signal; fusing its vector would add noise
				}
				qtexts = append(qtexts, q)
				qrefs[i] = append(qrefs[i], qref{lang, k})
			}
		}
	}
	var qvecs [][]float32
	if len(qtexts) > 0 {
		qvecs, _, err = b.enc.EncodeQueries(ctx, qtexts)
		if err != nil {
			return nil, fmt.Errorf("encode generated queries: %w", err)
		}
	}

	next := 0
	for j, i := range good {
		qs := qvecs[next : next+len(qrefs[i])]
		next += len(qrefs[i])
		r := &out[i]
		r.Truncated = pinfo.Truncated[j]
		r.CacheHit = cacheHit[i]
		r.GenerationTime = genTime[i]
		if b.gen == nil && len(qs) == 0 {
			// No generator and no given queries: the plain passage vector, as Info.Generation says.
			r.Vector = pvecs[j]
		} else {
			v, err := augment.Fuse(pvecs[j], qs, b.cfg.Augment.Alpha, b.cfg.Augment.Mode, b.cfg.Augment.Normalize)
			if err != nil {
				return nil, err
			}
			r.Vector = v
		}
		if opts.WithParts {
			r.PassageVector = pvecs[j]
			r.Queries = map[string][]string{}
			r.QueryVectors = map[string][][]float32{}
			for k, ref := range qrefs[i] {
				r.Queries[ref.lang] = append(r.Queries[ref.lang], queries[i][ref.lang][ref.k])
				r.QueryVectors[ref.lang] = append(r.QueryVectors[ref.lang], qs[k])
			}
		}
	}
	return out, nil
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

// sortedLangs fixes the order of the fused sum so the vector does not depend on map iteration (float rounding).
func sortedLangs(q augment.Queries) []string { return slices.Sorted(maps.Keys(q)) }
