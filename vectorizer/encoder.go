// Package vectorizer embeds text with a multilingual bi-encoder exported by Optimum to ONNX, on
// ONNX Runtime: one shared session, length-sorted batches, cls or masked-mean pooling.
package vectorizer

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"time"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/xqg/xqg/config"
	"github.com/xqg/xqg/internal/onnx"
	"github.com/xqg/xqg/internal/ortenv"
)

// Identity names a loaded model for /meta and cache keys: the folder's name and the sha256 of
// its weights, so a re-exported model in the same folder is a different identity.
type Identity struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
}

func (i Identity) String() string { return i.Name + "@" + i.SHA256[:12] }

// Info reports per-text facts of one Encode call, in input order, and where the time went.
type Info struct {
	// Tokens is each text's token count after truncation, special tokens included.
	Tokens []int
	// Truncated marks texts longer than encoder.max_length tokens.
	Truncated []bool
	// RunTime is the time spent inside ONNX Runtime; the rest of the call is Go-side overhead.
	RunTime time.Duration
}

// Encoder is safe for concurrent use: the session is shared and every call owns its tensors.
type Encoder struct {
	cfg       config.Encoder
	tok       textTokenizer
	sess      *ort.DynamicAdvancedSession
	inputs    []string // model input names, in the order the session was created with
	output    string
	dim       int
	pooling   string
	padID     int64
	maxLen    int
	id        Identity
	closeOnce sync.Once
}

// Load opens an encoder folder. ortenv.Init must have been called. Every missing or malformed
// file is named in the error.
func Load(ctx context.Context, cfg config.Encoder) (*Encoder, error) {
	dir := cfg.ModelDir
	if dir == "" {
		return nil, errors.New("encoder.model_dir: not set")
	}
	modelPath := filepath.Join(dir, ModelFile)
	var errs []error
	for _, f := range []string{ModelFile, TokenizerFile, ConfigFile} {
		if err := RequireFile(filepath.Join(dir, f)); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("encoder.model_dir %s: %w", dir, errors.Join(errs...))
	}
	var hc hfConfig
	if err := ReadJSON(filepath.Join(dir, ConfigFile), &hc); err != nil {
		return nil, fmt.Errorf("encoder.model_dir: %w", err)
	}
	filePooling, err := readPooling(dir)
	if err != nil {
		return nil, fmt.Errorf("encoder.model_dir: %w", err)
	}
	pooling := cfg.Pooling
	switch {
	case pooling == "" && filePooling != "":
		pooling = filePooling
	case pooling == "":
		pooling = "cls"
	case pooling != "cls" && pooling != "mean":
		return nil, fmt.Errorf("encoder.pooling: must be cls or mean, got %q", pooling)
	}
	maxLen := cfg.MaxLength
	if maxLen <= 0 {
		maxLen = 512
	}
	// RoBERTa-style models reserve padding_idx+1 positions, so 514 position embeddings hold 512 tokens.
	if mp := hc.MaxPositionEmbeddings; mp > 0 {
		limit := mp
		if hc.ModelType == "xlm-roberta" || hc.ModelType == "roberta" {
			limit = mp - 2
		}
		maxLen = min(maxLen, limit)
	}
	tok, err := loadTokenizer(filepath.Join(dir, TokenizerFile), maxLen)
	if err != nil {
		return nil, fmt.Errorf("encoder.model_dir: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	ins, outs, err := ModelIO(modelPath)
	if err != nil {
		return nil, fmt.Errorf("encoder.model_dir: %w", err)
	}
	var inputs []string
	have := map[string]bool{}
	for _, in := range ins {
		switch in.Name {
		case "input_ids", "attention_mask", "token_type_ids":
			if in.Type != onnx.Int64 {
				return nil, fmt.Errorf("encoder.model_dir: %s: input %s is %s, want int64", modelPath, in.Name, in.Type)
			}
			inputs = append(inputs, in.Name)
			have[in.Name] = true
		default:
			return nil, fmt.Errorf("encoder.model_dir: %s: unexpected input %q (want input_ids, attention_mask, optional token_type_ids)", modelPath, in.Name)
		}
	}
	for _, n := range []string{"input_ids", "attention_mask"} {
		if !have[n] {
			return nil, fmt.Errorf("encoder.model_dir: %s: model has no %s input", modelPath, n)
		}
	}
	output, dim := "", 0
	for _, o := range outs {
		if o.Name == "last_hidden_state" || (output == "" && len(o.Dims) == 3) {
			output = o.Name
			if len(o.Dims) == 3 {
				dim = int(o.Dims[2])
			}
		}
	}
	if output == "" {
		return nil, fmt.Errorf("encoder.model_dir: %s: no last_hidden_state output (a [batch, sequence, hidden] tensor)", modelPath)
	}
	hidden := hc.HiddenSize
	if hidden == 0 {
		hidden = hc.DModel
	}
	switch {
	case dim <= 0 && hidden <= 0:
		return nil, fmt.Errorf("encoder.model_dir: %s: hidden size unknown (model output %s has a dynamic last dimension and config.json has no hidden_size)", dir, output)
	case dim <= 0:
		dim = hidden
	case hidden > 0 && hidden != dim:
		return nil, fmt.Errorf("encoder.model_dir: %s says hidden_size %d but %s outputs %d", filepath.Join(dir, ConfigFile), hidden, modelPath, dim)
	}
	padID := int64(0)
	if hc.PadTokenID != nil {
		padID = int64(*hc.PadTokenID)
	}

	sum, err := HashFiles(modelPath, modelPath+"_data")
	if err != nil {
		return nil, fmt.Errorf("encoder.model_dir: %w", err)
	}
	opts, err := ortenv.SessionOptions(cfg.Threads)
	if err != nil {
		return nil, err
	}
	defer opts.Destroy()
	sess, err := ort.NewDynamicAdvancedSession(modelPath, inputs, []string{output}, opts)
	if err != nil {
		return nil, fmt.Errorf("encoder.model_dir: %s: %w", modelPath, err)
	}
	abs, _ := filepath.Abs(dir)
	return &Encoder{
		cfg: cfg, tok: tok, sess: sess, inputs: inputs, output: output, dim: dim,
		pooling: pooling, padID: padID, maxLen: maxLen,
		id: Identity{Name: filepath.Base(abs), SHA256: sum},
	}, nil
}

// Close releases the session; the Encoder must not be used afterwards.
func (e *Encoder) Close() error {
	var err error
	e.closeOnce.Do(func() { err = e.sess.Destroy() })
	return err
}

// Dim is the embedding dimension.
func (e *Encoder) Dim() int { return e.dim }

// Pooling is the pooling in effect (cls or mean).
func (e *Encoder) Pooling() string { return e.pooling }

// MaxLength is the token limit in effect (encoder.max_length capped by the model's positions).
func (e *Encoder) MaxLength() int { return e.maxLen }

// Identity names the model.
func (e *Encoder) Identity() Identity { return e.id }

// Normalize reports whether vectors are L2-normalised.
func (e *Encoder) Normalize() bool { return e.cfg.Normalize }

// EncodeQueries embeds search queries with encoder.query_prefix (E5's "query: ").
func (e *Encoder) EncodeQueries(ctx context.Context, texts []string) ([][]float32, Info, error) {
	return e.Encode(ctx, prefixed(e.cfg.QueryPrefix, texts))
}

// EncodePassages embeds passages with encoder.passage_prefix (E5's "passage: "). The generated
// queries fused into a passage vector are embedded as queries, the passage itself as a passage.
func (e *Encoder) EncodePassages(ctx context.Context, texts []string) ([][]float32, Info, error) {
	return e.Encode(ctx, prefixed(e.cfg.PassagePrefix, texts))
}

func prefixed(p string, texts []string) []string {
	if p == "" {
		return texts
	}
	out := make([]string, len(texts))
	for i, t := range texts {
		out[i] = p + t
	}
	return out
}

// Encode embeds texts as they are. Texts are tokenized, sorted by length so that each batch of
// encoder.batch_size pads little, and returned in input order. Cancelling ctx stops the running
// batch inside ONNX Runtime.
func (e *Encoder) Encode(ctx context.Context, texts []string) ([][]float32, Info, error) {
	info := Info{Tokens: make([]int, len(texts)), Truncated: make([]bool, len(texts))}
	if len(texts) == 0 {
		return nil, info, nil
	}
	toks := make([]tokens, len(texts))
	for i, t := range texts {
		toks[i] = e.tok.tokenize(t)
		if len(toks[i].ids) == 0 {
			// Only a tokenizer.json that adds no special tokens gets here; pooling nothing would
			// return position 0 of another row's padding (cls) or a zero vector (mean).
			return nil, info, fmt.Errorf("encoder: text %d (%.40q) tokenizes to no tokens", i, t)
		}
		info.Tokens[i] = len(toks[i].ids)
		info.Truncated[i] = toks[i].truncated
	}
	order := make([]int, len(texts))
	for i := range order {
		order[i] = i
	}
	// Stable, so equal lengths keep input order and results do not depend on sort internals.
	sort.SliceStable(order, func(a, b int) bool { return len(toks[order[a]].ids) > len(toks[order[b]].ids) })

	ro, release, err := ortenv.RunOptions(ctx)
	if err != nil {
		return nil, info, err
	}
	defer release()

	out := make([][]float32, len(texts))
	bs := max(e.cfg.BatchSize, 1)
	for start := 0; start < len(order); start += bs {
		if err := ctx.Err(); err != nil {
			return nil, info, err
		}
		idx := order[start:min(start+bs, len(order))]
		d, err := e.runBatch(ro, toks, idx, out)
		info.RunTime += d
		if err != nil {
			if ctx.Err() != nil {
				return nil, info, ctx.Err()
			}
			return nil, info, err
		}
	}
	return out, info, nil
}

func (e *Encoder) runBatch(ro *ort.RunOptions, toks []tokens, idx []int, out [][]float32) (time.Duration, error) {
	b := len(idx)
	l := 0
	for _, i := range idx {
		l = max(l, len(toks[i].ids))
	}
	ids := make([]int64, b*l)
	mask := make([]int64, b*l)
	types := make([]int64, b*l)
	for r, i := range idx {
		row := ids[r*l : (r+1)*l]
		n := copy(row, toks[i].ids)
		for j := n; j < l; j++ {
			row[j] = e.padID
		}
		for j := range n {
			mask[r*l+j] = 1
		}
		copy(types[r*l:], toks[i].typeIDs)
	}
	shape := ort.NewShape(int64(b), int64(l))
	vals := map[string][]int64{"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
	inputs := make([]ort.Value, len(e.inputs))
	defer func() {
		for _, v := range inputs {
			if v != nil {
				v.Destroy()
			}
		}
	}()
	for k, name := range e.inputs {
		t, err := ort.NewTensor(shape, vals[name])
		if err != nil {
			return 0, fmt.Errorf("encoder: %s tensor: %w", name, err)
		}
		inputs[k] = t
	}
	hidden, err := ort.NewEmptyTensor[float32](ort.NewShape(int64(b), int64(l), int64(e.dim)))
	if err != nil {
		return 0, fmt.Errorf("encoder: output tensor: %w", err)
	}
	defer hidden.Destroy()
	t0 := time.Now()
	err = e.sess.RunWithOptions(inputs, []ort.Value{hidden}, ro)
	d := time.Since(t0)
	if err != nil {
		return d, fmt.Errorf("encoder: run batch of %d×%d: %w", b, l, err)
	}
	h := hidden.GetData()
	for r, i := range idx {
		v := make([]float32, e.dim)
		pool(h[r*l*e.dim:(r+1)*l*e.dim], mask[r*l:(r+1)*l], e.dim, e.pooling, v)
		if e.cfg.Normalize {
			l2normalize(v)
		}
		out[i] = v
	}
	return d, nil
}

// inputNames is for tests and `xqg models check`.
func (e *Encoder) inputNames() []string { return slices.Clone(e.inputs) }
