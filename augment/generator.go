package augment

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/xqg/xqg/config"
	"github.com/xqg/xqg/internal/ortenv"
	"github.com/xqg/xqg/vectorizer"
	"github.com/xqg/xqg/vectorizer/tokenizer"
)

// Files of an Optimum seq2seq export (`optimum-cli export onnx --task text2text-generation-with-past`).
const (
	EncoderModelFile     = "encoder_model.onnx"
	DecoderModelFile     = "decoder_model.onnx"
	DecoderWithPastFile  = "decoder_with_past_model.onnx"
	DecoderMergedFile    = "decoder_model_merged.onnx"
	GenerationConfigFile = "generation_config.json"
)

// MaxInputTokens caps the prompt, as the release's generation script truncates passages.
const MaxInputTokens = 512

// GeneratorOptions are settings that are not part of the configuration file.
type GeneratorOptions struct {
	// DisableKVCache re-runs decoder_model.onnx on the whole prefix at every step instead of
	// feeding the key/value cache to decoder_with_past_model.onnx: for the comparison benchmark.
	DisableKVCache bool
}

// Passage is what queries are generated for.
type Passage struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Text  string `json:"text"`
	// Queries are precomputed queries (ielab/xor-tydi-xqg-augmented's generated_queries); when
	// set, nothing is generated for this passage.
	Queries Queries `json:"generated_queries,omitempty"`
}

// GenInfo reports where a Generate call spent its effort.
type GenInfo struct {
	// NewTokens counts generated tokens over all rows (EOS included, padding after it not).
	NewTokens int
	// Steps is the number of decoder runs.
	Steps int
	// RunTime is the time spent inside ONNX Runtime.
	RunTime time.Duration
}

// Generator is a seq2seq query generator, safe for concurrent use.
type Generator struct {
	cfg     config.Generator
	opts    GeneratorOptions
	tok     *tokenizer.Tokenizer
	enc     *session
	dec     *session // decoder_model.onnx: first step, and every step without the cache
	past    *session // decoder_with_past_model.onnx
	merged  *session // decoder_model_merged.onnx, when the pair is absent
	layers  int
	heads   int
	headDim int
	startID int64
	eosID   int64
	padID   int64
	id      vectorizer.Identity
}

type t5Config struct {
	ModelType           string `json:"model_type"`
	DModel              int    `json:"d_model"`
	NumLayers           int    `json:"num_layers"`
	NumDecoderLayers    int    `json:"num_decoder_layers"`
	NumHeads            int    `json:"num_heads"`
	DKV                 int    `json:"d_kv"`
	VocabSize           int    `json:"vocab_size"`
	DecoderStartTokenID *int   `json:"decoder_start_token_id"`
	EOSTokenID          *int   `json:"eos_token_id"`
	PadTokenID          *int   `json:"pad_token_id"`
}

type genConfig struct {
	DecoderStartTokenID *int `json:"decoder_start_token_id"`
	EOSTokenID          any  `json:"eos_token_id"` // an int, or a list of ints in newer exports
	PadTokenID          *int `json:"pad_token_id"`
}

// LoadGenerator opens a seq2seq folder. ortenv.Init must have been called. Every missing or
// malformed file is named in the error.
func LoadGenerator(ctx context.Context, cfg config.Generator, opts GeneratorOptions) (*Generator, error) {
	dir := cfg.ModelDir
	if dir == "" {
		return nil, errors.New("generator.model_dir: not set")
	}
	wrap := func(err error) error { return fmt.Errorf("generator.model_dir %s: %w", dir, err) }
	var errs []error
	for _, f := range []string{EncoderModelFile, vectorizer.TokenizerFile, vectorizer.ConfigFile} {
		if err := vectorizer.RequireFile(filepath.Join(dir, f)); err != nil {
			errs = append(errs, err)
		}
	}
	exists := func(f string) bool { return vectorizer.RequireFile(filepath.Join(dir, f)) == nil }
	pair := exists(DecoderModelFile) && exists(DecoderWithPastFile)
	useMerged := !pair && exists(DecoderMergedFile)
	if !pair && !useMerged {
		if opts.DisableKVCache && exists(DecoderModelFile) {
			// Without the cache, decoder_model.onnx alone is enough.
		} else {
			errs = append(errs, fmt.Errorf("%s and %s, or %s: missing",
				filepath.Join(dir, DecoderModelFile), filepath.Join(dir, DecoderWithPastFile), filepath.Join(dir, DecoderMergedFile)))
		}
	}
	if len(errs) > 0 {
		return nil, wrap(errors.Join(errs...))
	}
	var tc t5Config
	if err := vectorizer.ReadJSON(filepath.Join(dir, vectorizer.ConfigFile), &tc); err != nil {
		return nil, wrap(err)
	}
	g := &Generator{cfg: cfg, opts: opts}
	g.layers = tc.NumDecoderLayers
	if g.layers == 0 {
		g.layers = tc.NumLayers
	}
	g.heads, g.headDim = tc.NumHeads, tc.DKV
	startID, eosID, padID := 0, 1, 0 // T5's
	if tc.DecoderStartTokenID != nil {
		startID = *tc.DecoderStartTokenID
	}
	if tc.EOSTokenID != nil {
		eosID = *tc.EOSTokenID
	}
	if tc.PadTokenID != nil {
		padID = *tc.PadTokenID
	}
	gp := filepath.Join(dir, GenerationConfigFile)
	if _, err := os.Stat(gp); err == nil {
		var gc genConfig
		if err := vectorizer.ReadJSON(gp, &gc); err != nil {
			return nil, wrap(err)
		}
		if gc.DecoderStartTokenID != nil {
			startID = *gc.DecoderStartTokenID
		}
		if gc.PadTokenID != nil {
			padID = *gc.PadTokenID
		}
		switch v := gc.EOSTokenID.(type) {
		case nil:
		case float64:
			eosID = int(v)
		case []any:
			if len(v) > 0 {
				if f, ok := v[0].(float64); ok {
					eosID = int(f)
				}
			}
		default:
			return nil, wrap(fmt.Errorf("%s: eos_token_id must be a number or a list, got %v", gp, v))
		}
	}
	g.startID, g.eosID, g.padID = int64(startID), int64(eosID), int64(padID)

	tok, err := tokenizer.LoadFile(filepath.Join(dir, vectorizer.TokenizerFile))
	if err != nil {
		return nil, wrap(err)
	}
	g.tok = tok.WithPadding(nil).WithTruncation(MaxInputTokens)
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	fail := func(err error) (*Generator, error) { g.Close(); return nil, wrap(err) }
	if g.enc, err = openSession(filepath.Join(dir, EncoderModelFile), cfg.Threads); err != nil {
		return fail(err)
	}
	if err := g.enc.require([]string{"input_ids", "attention_mask"}, []string{"last_hidden_state"}); err != nil {
		return fail(err)
	}
	if exists(DecoderModelFile) && (pair || opts.DisableKVCache) {
		if g.dec, err = openSession(filepath.Join(dir, DecoderModelFile), cfg.Threads); err != nil {
			return fail(err)
		}
		if err := g.dec.require([]string{"input_ids", "encoder_hidden_states"}, []string{"logits"}); err != nil {
			return fail(err)
		}
	}
	if pair && !opts.DisableKVCache {
		if g.past, err = openSession(filepath.Join(dir, DecoderWithPastFile), cfg.Threads); err != nil {
			return fail(err)
		}
		if err := g.past.require(pastNames(g.layers, "past_key_values"), []string{"logits"}); err != nil {
			return fail(fmt.Errorf("%w (config.json says %d decoder layers)", err, g.layers))
		}
		if err := g.dec.require(nil, presentNames(g.layers)); err != nil {
			return fail(err)
		}
	}
	if useMerged {
		if g.merged, err = openSession(filepath.Join(dir, DecoderMergedFile), cfg.Threads); err != nil {
			return fail(err)
		}
		req := append([]string{"input_ids", "encoder_hidden_states", "use_cache_branch"}, pastNames(g.layers, "past_key_values")...)
		if err := g.merged.require(req, append([]string{"logits"}, presentNames(g.layers)...)); err != nil {
			return fail(err)
		}
		if g.heads == 0 || g.headDim == 0 {
			return fail(fmt.Errorf("%s: num_heads and d_kv are needed for %s", filepath.Join(dir, vectorizer.ConfigFile), DecoderMergedFile))
		}
	}

	var files []string
	for _, f := range []string{EncoderModelFile, DecoderModelFile, DecoderWithPastFile, DecoderMergedFile} {
		p := filepath.Join(dir, f)
		files = append(files, p, p+"_data")
	}
	sum, err := vectorizer.HashFiles(files...)
	if err != nil {
		return fail(err)
	}
	abs, _ := filepath.Abs(dir)
	g.id = vectorizer.Identity{Name: filepath.Base(abs), SHA256: sum}
	return g, nil
}

// pastNames lists the cache inputs (prefix past_key_values) or, with prefix present, outputs.
func pastNames(layers int, prefix string) []string {
	var out []string
	for i := range layers {
		for _, part := range []string{"decoder.key", "decoder.value", "encoder.key", "encoder.value"} {
			out = append(out, fmt.Sprintf("%s.%d.%s", prefix, i, part))
		}
	}
	return out
}

func presentNames(layers int) []string { return pastNames(layers, "present") }

// Close releases the sessions.
func (g *Generator) Close() {
	g.enc.close()
	g.dec.close()
	g.past.close()
	g.merged.close()
}

// Identity names the model (folder name and sha256 of its ONNX files), for cache keys and /meta.
func (g *Generator) Identity() vectorizer.Identity { return g.id }

// Config is the generation configuration in effect.
func (g *Generator) Config() config.Generator { return g.cfg }

// CacheKey is the query-cache key of p under this generator's settings.
func (g *Generator) CacheKey(p Passage) CacheKey {
	c := g.cfg
	tmpl := c.PromptTemplate
	if tmpl == "" {
		tmpl = DefaultTemplate
	}
	k := CacheKey{Model: g.id.String(), Template: tmpl, Title: p.Title, Text: p.Text,
		Languages: c.Languages, N: c.QueriesPerLanguage, Strategy: c.Strategy, MaxNewTokens: c.MaxNewTokens, Seed: c.Seed}
	// Settings the strategy ignores stay zero, so changing them does not invalidate entries.
	switch c.Strategy {
	case "sample", "":
		k.TopK, k.Temperature = c.TopK, c.Temperature
	case "beam":
		k.NumBeams = c.NumBeams
	}
	return k
}

// prompt is one (passage, language) input; its rows are the n queries generated from it.
type prompt struct {
	passage int
	lang    string
	ids     []int64
}

// Generate produces generator.queries_per_language queries in each generator.languages language
// for every passage. Several passages are decoded together, up to generator.batch_size rows.
func (g *Generator) Generate(ctx context.Context, ps []Passage) ([]Queries, GenInfo, error) {
	var info GenInfo
	out := make([]Queries, len(ps))
	c := g.cfg
	langs, n := c.Languages, max(c.QueriesPerLanguage, 1)
	perPassage := len(langs) * n
	chunk := max(1, max(c.BatchSize, 1)/max(perPassage, 1))
	for start := 0; start < len(ps); start += chunk {
		if err := ctx.Err(); err != nil {
			return nil, info, err
		}
		batch := ps[start:min(start+chunk, len(ps))]
		var prompts []prompt
		for pi, p := range batch {
			for _, l := range langs {
				text, err := BuildPrompt(c.PromptTemplate, l, p.Title, p.Text)
				if err != nil {
					return nil, info, err
				}
				e := g.tok.Encode(text, true)
				ids := make([]int64, len(e.IDs))
				for i, id := range e.IDs {
					ids[i] = int64(id)
				}
				prompts = append(prompts, prompt{passage: pi, lang: l, ids: ids})
			}
		}
		seqs, err := g.generateIDs(ctx, batch, prompts, n, &info)
		if err != nil {
			return nil, info, err
		}
		for k, pr := range prompts {
			q := out[start+pr.passage]
			if q == nil {
				q = Queries{}
				out[start+pr.passage] = q
			}
			for i := range n {
				q[pr.lang] = append(q[pr.lang], g.decode(seqs[k*n+i]))
			}
		}
	}
	return out, info, nil
}

func (g *Generator) decode(ids []int64) string {
	var toks []int
	for _, id := range ids {
		if id == g.eosID {
			break
		}
		toks = append(toks, int(id))
	}
	return strings.TrimSpace(g.tok.Decode(toks, true))
}

// generateIDs returns n token sequences per prompt, prompt-major, without the start token and
// cut after EOS.
func (g *Generator) generateIDs(ctx context.Context, ps []Passage, prompts []prompt, n int, info *GenInfo) ([][]int64, error) {
	ro, release, err := ortenv.RunOptions(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	st, err := g.encode(ro, prompts, info)
	if err != nil {
		return nil, ctxErr(ctx, err)
	}
	defer st.destroy()
	var seqs [][]int64
	if g.cfg.Strategy == "beam" {
		seqs, err = g.beam(ctx, ro, st, len(prompts), n, info)
	} else {
		rngs := make([]*rand.Rand, 0, len(prompts)*n)
		for _, pr := range prompts {
			p := ps[pr.passage]
			for i := range n {
				rngs = append(rngs, rowRNG(g.cfg.Seed, p.Title, p.Text, pr.lang, i))
			}
		}
		seqs, err = g.sample(ctx, ro, st, n, rngs, info)
	}
	return seqs, ctxErr(ctx, err)
}

func ctxErr(ctx context.Context, err error) error {
	if err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// encoded is the encoder's output for the unique prompts of a batch.
type encoded struct {
	u, s, d int
	hidden  *ort.Tensor[float32] // [u, s, d]
	mask    []int64              // [u, s]
}

func (e *encoded) destroy() { e.hidden.Destroy() }

func (g *Generator) encode(ro *ort.RunOptions, prompts []prompt, info *GenInfo) (*encoded, error) {
	u, s := len(prompts), 0
	for _, p := range prompts {
		s = max(s, len(p.ids))
	}
	ids := make([]int64, u*s)
	mask := make([]int64, u*s)
	for r, p := range prompts {
		for j := range s {
			if j < len(p.ids) {
				ids[r*s+j], mask[r*s+j] = p.ids[j], 1
			} else {
				ids[r*s+j] = g.padID
			}
		}
	}
	shape := ort.NewShape(int64(u), int64(s))
	idT, err := ort.NewTensor(shape, ids)
	if err != nil {
		return nil, err
	}
	defer idT.Destroy()
	maskT, err := ort.NewTensor(shape, mask)
	if err != nil {
		return nil, err
	}
	defer maskT.Destroy()
	outs, d, err := g.enc.run(ro, map[string]ort.Value{"input_ids": idT, "attention_mask": maskT})
	info.RunTime += d
	if err != nil {
		return nil, fmt.Errorf("generator: encoder: %w", err)
	}
	h, err := floatTensor(outs["last_hidden_state"], "last_hidden_state")
	if err != nil {
		destroyAll(outs)
		return nil, err
	}
	delete(outs, "last_hidden_state")
	destroyAll(outs)
	return &encoded{u: u, s: s, d: int(h.GetShape()[2]), hidden: h, mask: mask}, nil
}

// decoderState is the per-row state the decoder needs: the encoder outputs replicated to rows,
// the key/value cache, or (without the cache) the whole prefix.
type decoderState struct {
	g      *Generator
	rows   int
	hidden *ort.Tensor[float32] // [rows, s, d], only when a decoder step needs it
	mask   *ort.Tensor[int64]   // [rows, s]
	past   map[string]*ort.Tensor[float32]
	vocab  int
	prefix [][]int64 // without the cache: each row's tokens so far, start token included
	// logits is the cached path's [rows, 1, vocab] output, written in place at every step: it is
	// the largest tensor of a step (35 MB for mT5 at 35 rows), so reusing it spares an
	// allocation and a copy per step.
	logits *ort.Tensor[float32]
}

func (ds *decoderState) destroy() {
	if ds.hidden != nil {
		ds.hidden.Destroy()
	}
	if ds.mask != nil {
		ds.mask.Destroy()
	}
	if ds.logits != nil {
		ds.logits.Destroy()
	}
	for _, t := range ds.past {
		t.Destroy()
	}
}

// reorder makes row i of the state be row src[i] of the current one.
func (ds *decoderState) reorder(src []int, withEncoder bool) error {
	for name, t := range ds.past {
		if !withEncoder && strings.Contains(name, ".encoder.") {
			continue
		}
		nt, err := gatherRows(t, src)
		if err != nil {
			return err
		}
		t.Destroy()
		ds.past[name] = nt
	}
	if ds.prefix != nil {
		np := make([][]int64, len(src))
		for i, r := range src {
			np[i] = append([]int64(nil), ds.prefix[r]...)
		}
		ds.prefix = np
	}
	if ds.logits != nil && ds.rows != len(src) {
		ds.logits.Destroy()
		ds.logits = nil
	}
	ds.rows = len(src)
	return nil
}

func maskTensor(e *encoded, rowPrompt []int) (*ort.Tensor[int64], error) {
	m := make([]int64, len(rowPrompt)*e.s)
	for i, u := range rowPrompt {
		copy(m[i*e.s:(i+1)*e.s], e.mask[u*e.s:(u+1)*e.s])
	}
	return ort.NewTensor(ort.NewShape(int64(len(rowPrompt)), int64(e.s)), m)
}

// start runs the first decoder step on the unique prompts (every row of a prompt sees the same
// start token, so their first logits and cache are identical) and replicates the result to rows.
// It returns the first logits per row, [rows × vocab].
func (g *Generator) start(ro *ort.RunOptions, e *encoded, rowPrompt []int, info *GenInfo) (*decoderState, []float32, int, error) {
	ds := &decoderState{g: g, rows: len(rowPrompt)}
	uniq := make([]int, e.u)
	for i := range uniq {
		uniq[i] = i
	}
	umask, err := maskTensor(e, uniq)
	if err != nil {
		return nil, nil, 0, err
	}
	defer umask.Destroy()
	if ds.mask, err = maskTensor(e, rowPrompt); err != nil {
		return nil, nil, 0, err
	}
	needHidden := g.past == nil && g.merged == nil || (g.past != nil && g.past.has("encoder_hidden_states")) ||
		(g.merged != nil && g.merged.has("encoder_hidden_states"))
	if needHidden {
		if ds.hidden, err = gatherRows(e.hidden, rowPrompt); err != nil {
			ds.destroy()
			return nil, nil, 0, err
		}
	}
	if g.past == nil && g.merged == nil {
		// No cache: step 0 is the prefix [start].
		ds.prefix = make([][]int64, len(rowPrompt))
		for i := range ds.prefix {
			ds.prefix[i] = []int64{g.startID}
		}
		logits, v, err := ds.step(ro, nil, info)
		if err != nil {
			ds.destroy()
			return nil, nil, 0, err
		}
		return ds, logits, v, nil
	}
	ids, err := ort.NewTensor(ort.NewShape(int64(e.u), 1), fill(e.u, g.startID))
	if err != nil {
		ds.destroy()
		return nil, nil, 0, err
	}
	defer ids.Destroy()
	feeds := map[string]ort.Value{"input_ids": ids, "encoder_hidden_states": e.hidden, "encoder_attention_mask": umask}
	sess := g.dec
	var empties []ort.Value
	if g.merged != nil {
		sess = g.merged
		flag, err := ort.NewTensor(ort.NewShape(1), []bool{false})
		if err != nil {
			ds.destroy()
			return nil, nil, 0, err
		}
		empties = append(empties, flag)
		feeds["use_cache_branch"] = flag
		for _, name := range pastNames(g.layers, "past_key_values") {
			t, err := ort.NewTensor(ort.NewShape(int64(e.u), int64(g.heads), 0, int64(g.headDim)), []float32{})
			if err != nil {
				ds.destroy()
				return nil, nil, 0, err
			}
			empties = append(empties, t)
			feeds[name] = t
		}
	}
	defer func() {
		for _, v := range empties {
			v.Destroy()
		}
	}()
	outs, d, err := sess.run(ro, feeds)
	info.RunTime += d
	info.Steps++
	if err != nil {
		ds.destroy()
		return nil, nil, 0, fmt.Errorf("generator: decoder: %w", err)
	}
	defer destroyAll(outs)
	logitsT, err := floatTensor(outs["logits"], "logits")
	if err != nil {
		ds.destroy()
		return nil, nil, 0, err
	}
	lshape := logitsT.GetShape()
	v := int(lshape[2])
	ds.vocab = v
	ul := logitsT.GetData()
	logits := make([]float32, len(rowPrompt)*v)
	for i, u := range rowPrompt {
		copy(logits[i*v:(i+1)*v], ul[u*v:(u+1)*v])
	}
	ds.past = map[string]*ort.Tensor[float32]{}
	for _, name := range presentNames(g.layers) {
		t, err := floatTensor(outs[name], name)
		if err != nil {
			ds.destroy()
			return nil, nil, 0, err
		}
		rt, err := gatherRows(t, rowPrompt)
		if err != nil {
			ds.destroy()
			return nil, nil, 0, err
		}
		ds.past["past_key_values"+strings.TrimPrefix(name, "present")] = rt
	}
	return ds, logits, v, nil
}

func fill(n int, v int64) []int64 {
	s := make([]int64, n)
	for i := range s {
		s[i] = v
	}
	return s
}

// step feeds one new token per row (nil on the no-cache first step) and returns the next
// logits [rows × vocab].
func (ds *decoderState) step(ro *ort.RunOptions, next []int64, info *GenInfo) ([]float32, int, error) {
	g := ds.g
	feeds := map[string]ort.Value{"encoder_attention_mask": ds.mask}
	if ds.hidden != nil {
		feeds["encoder_hidden_states"] = ds.hidden
	}
	var owned []ort.Value
	defer func() {
		for _, v := range owned {
			v.Destroy()
		}
	}()
	var sess *session
	if ds.prefix != nil {
		sess = g.dec
		for i, t := range next {
			ds.prefix[i] = append(ds.prefix[i], t)
		}
		l := len(ds.prefix[0])
		flat := make([]int64, 0, ds.rows*l)
		for _, p := range ds.prefix {
			flat = append(flat, p...)
		}
		ids, err := ort.NewTensor(ort.NewShape(int64(ds.rows), int64(l)), flat)
		if err != nil {
			return nil, 0, err
		}
		owned = append(owned, ids)
		feeds["input_ids"] = ids
	} else {
		sess = g.past
		if g.merged != nil {
			sess = g.merged
			flag, err := ort.NewTensor(ort.NewShape(1), []bool{true})
			if err != nil {
				return nil, 0, err
			}
			owned = append(owned, flag)
			feeds["use_cache_branch"] = flag
		}
		ids, err := ort.NewTensor(ort.NewShape(int64(ds.rows), 1), next)
		if err != nil {
			return nil, 0, err
		}
		owned = append(owned, ids)
		feeds["input_ids"] = ids
		for name, t := range ds.past {
			feeds[name] = t
		}
	}
	for name := range feeds {
		if !sess.has(name) {
			delete(feeds, name)
		}
	}
	var pre map[string]ort.Value
	if ds.prefix == nil {
		if ds.logits == nil {
			var err error
			if ds.logits, err = ort.NewEmptyTensor[float32](ort.NewShape(int64(ds.rows), 1, int64(ds.vocab))); err != nil {
				return nil, 0, err
			}
		}
		pre = map[string]ort.Value{"logits": ds.logits}
	}
	outs, d, err := sess.run(ro, feeds, pre)
	info.RunTime += d
	info.Steps++
	if err != nil {
		return nil, 0, fmt.Errorf("generator: decoder step: %w", err)
	}
	defer destroyAll(outs)
	var logits []float32
	v := ds.vocab
	if ds.prefix == nil {
		// Valid until the next step, which is all the callers need.
		logits = ds.logits.GetData()
	} else {
		logitsT, err := floatTensor(outs["logits"], "logits")
		if err != nil {
			return nil, 0, err
		}
		shape := logitsT.GetShape()
		t := int(shape[1])
		v = int(shape[2])
		all := logitsT.GetData()
		logits = make([]float32, ds.rows*v)
		for r := range ds.rows {
			copy(logits[r*v:(r+1)*v], all[(r*t+t-1)*v:(r*t+t)*v])
		}
	}
	if ds.prefix == nil {
		// The cross-attention cache never changes; merged exports return it empty on this branch.
		for name, val := range outs {
			if !strings.HasPrefix(name, "present.") || strings.Contains(name, ".encoder.") {
				continue
			}
			pt, err := floatTensor(val, name)
			if err != nil {
				return nil, 0, err
			}
			key := "past_key_values" + strings.TrimPrefix(name, "present")
			ds.past[key].Destroy()
			ds.past[key] = pt
			outs[name] = nil // kept: not destroyed with the rest
		}
	}
	return logits, v, nil
}

// sample decodes every row with top-k sampling (or greedily) until EOS or max_new_tokens.
func (g *Generator) sample(ctx context.Context, ro *ort.RunOptions, e *encoded, n int, rngs []*rand.Rand, info *GenInfo) ([][]int64, error) {
	rows := e.u * n
	rowPrompt := make([]int, rows)
	for r := range rowPrompt {
		rowPrompt[r] = r / n
	}
	ds, logits, v, err := g.start(ro, e, rowPrompt, info)
	if err != nil {
		return nil, err
	}
	defer ds.destroy()
	seqs := make([][]int64, rows)
	// live maps the decoder state's rows to output rows: finished rows are dropped from the
	// batch so that short queries stop costing decoder time.
	live := make([]int, rows)
	for r := range live {
		live[r] = r
	}
	next := make([]int64, rows)
	greedy := g.cfg.Strategy == "greedy"
	maxNew := max(g.cfg.MaxNewTokens, 1)
	for step := 0; ; step++ {
		// Choosing from a 250k vocabulary is the Go side's main cost; rows are independent
		// (each has its own random stream), so they are chosen in parallel between runs.
		parallelRows(len(live), func(k int) {
			row := logits[k*v : (k+1)*v]
			if greedy {
				next[k] = int64(argmax(row))
			} else {
				next[k] = int64(sampleTopK(row, g.cfg.TopK, g.cfg.Temperature, rngs[live[k]]))
			}
		})
		var keep []int
		for k, r := range live {
			seqs[r] = append(seqs[r], next[k])
			info.NewTokens++
			if next[k] != g.eosID {
				keep = append(keep, k)
			}
		}
		if len(keep) == 0 || step+1 >= maxNew {
			return seqs, nil
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if len(keep) < len(live) {
			// Compacting copies the cache; the rows it drops would otherwise run every later step.
			if err := ds.compact(keep); err != nil {
				return nil, err
			}
			nl := make([]int, len(keep))
			for i, k := range keep {
				nl[i], next[i] = live[k], next[k]
			}
			live = nl
		}
		if logits, v, err = ds.step(ro, next[:len(live)], info); err != nil {
			return nil, err
		}
	}
}

// compact keeps only the given rows of the state, in order.
func (ds *decoderState) compact(rows []int) error {
	if err := ds.reorder(rows, true); err != nil {
		return err
	}
	m, err := gatherRows(ds.mask, rows)
	if err != nil {
		return err
	}
	ds.mask.Destroy()
	ds.mask = m
	if ds.hidden != nil {
		h, err := gatherRows(ds.hidden, rows)
		if err != nil {
			return err
		}
		ds.hidden.Destroy()
		ds.hidden = h
	}
	return nil
}

// parallelRows calls f for every row in [0, n), spread over GOMAXPROCS goroutines.
func parallelRows(n int, f func(r int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		for r := range n {
			f(r)
		}
		return
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := w; r < n; r += workers {
				f(r)
			}
		}()
	}
	wg.Wait()
}

type hyp struct {
	ids   []int64
	score float64
}

// beam runs beam search with max(num_beams, n) beams per prompt and returns the n best finished
// hypotheses, scored by sum of log-probabilities over length (length_penalty 1). A prompt is
// finished once it has as many hypotheses as beams (transformers' early_stopping=True).
func (g *Generator) beam(ctx context.Context, ro *ort.RunOptions, e *encoded, u, n int, info *GenInfo) ([][]int64, error) {
	nb := max(g.cfg.NumBeams, n)
	rows := u * nb
	rowPrompt := make([]int, rows)
	for r := range rowPrompt {
		rowPrompt[r] = r / nb
	}
	ds, logits, v, err := g.start(ro, e, rowPrompt, info)
	if err != nil {
		return nil, err
	}
	defer ds.destroy()
	scores := make([]float64, rows)
	for r := range scores {
		if r%nb != 0 {
			scores[r] = math.Inf(-1) // all beams start equal: let only the first expand at step 0
		}
	}
	seqs := make([][]int64, rows)
	hyps := make([][]hyp, u)
	done := make([]bool, u)
	lp := make([]float64, v)
	maxNew := max(g.cfg.MaxNewTokens, 1)
	type cand struct {
		score float64
		row   int
		tok   int
	}
	for step := 0; step < maxNew; step++ {
		src := make([]int, rows)
		next := make([]int64, rows)
		newScores := make([]float64, rows)
		newSeqs := make([][]int64, rows)
		for p := range u {
			if done[p] {
				for b := range nb {
					r := p*nb + b
					src[r], next[r], newScores[r], newSeqs[r] = r, g.padID, math.Inf(-1), seqs[r]
				}
				continue
			}
			var cands []cand
			for b := range nb {
				r := p*nb + b
				if math.IsInf(scores[r], -1) {
					continue
				}
				logSoftmax(logits[r*v:(r+1)*v], lp)
				for _, t := range topKFloat(lp, 2*nb) {
					cands = append(cands, cand{scores[r] + lp[t], r, t})
				}
			}
			sort.SliceStable(cands, func(a, b int) bool { return cands[a].score > cands[b].score })
			filled := 0
			for _, c := range cands {
				if filled == nb {
					break
				}
				ids := append(append([]int64(nil), seqs[c.row]...), int64(c.tok))
				if int64(c.tok) == g.eosID || step+1 == maxNew {
					hyps[p] = append(hyps[p], hyp{ids, c.score / float64(len(ids))})
					info.NewTokens += len(ids)
					if int64(c.tok) == g.eosID {
						continue
					}
				}
				r := p*nb + filled
				src[r], next[r], newScores[r], newSeqs[r] = c.row, int64(c.tok), c.score, ids
				filled++
			}
			for ; filled < nb; filled++ {
				r := p*nb + filled
				src[r], next[r], newScores[r], newSeqs[r] = p*nb, g.padID, math.Inf(-1), nil
			}
			if len(hyps[p]) >= nb {
				done[p] = true
			}
		}
		allDone := true
		for _, d := range done {
			allDone = allDone && d
		}
		if allDone || step+1 == maxNew {
			break
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := ds.reorder(src, false); err != nil {
			return nil, err
		}
		scores, seqs = newScores, newSeqs
		if logits, v, err = ds.step(ro, next, info); err != nil {
			return nil, err
		}
	}
	out := make([][]int64, 0, u*n)
	for p := range u {
		h := hyps[p]
		sort.SliceStable(h, func(a, b int) bool { return h[a].score > h[b].score })
		for i := range n {
			if i < len(h) {
				out = append(out, h[i].ids)
			} else {
				out = append(out, nil)
			}
		}
	}
	return out, nil
}

// topKFloat returns the indices of the k largest values, largest first.
func topKFloat(x []float64, k int) []int {
	idx := make([]int, 0, k)
	for i, val := range x {
		if len(idx) == k && val <= x[idx[k-1]] {
			continue
		}
		pos := sort.Search(len(idx), func(p int) bool { return x[idx[p]] < val })
		if len(idx) < k {
			idx = append(idx, 0)
		}
		copy(idx[pos+1:], idx[pos:len(idx)-1])
		idx[pos] = i
	}
	return idx
}
