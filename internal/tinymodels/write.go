// Package tinymodels writes transformer model folders (ONNX graphs with
// generated weights, config.json, tokenizer.json) laid out exactly as
// `optimum-cli export onnx` lays them out, so that the encoder and generator
// code paths are the same for these and for real exports. Tiny shapes serve
// tests; real shapes (MiniLM-L12, BERT-base, XLM-R-large, mT5) serve
// benchmarks. Everything is deterministic: the same shape gives the same
// bytes on every run.
//
// The package is pure Go (no cgo), so the xqg CLI can write models.
package tinymodels

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/xqg/xqg/internal/onnx"
)

// Version names the generation scheme; bump it whenever the written bytes
// change, so Ensure's cached folders are rebuilt.
const Version = "v3"

// Layout selects which decoder files WriteSeq2Seq writes.
type Layout int

// Decoder layouts. Optimum's default export writes all of them.
const (
	LayoutAll    Layout = iota // decoder_model, decoder_with_past_model and decoder_model_merged
	LayoutSplit                // decoder_model and decoder_with_past_model
	LayoutMerged               // decoder_model_merged only
)

type options struct {
	pooling  string
	layout   Layout
	external bool
}

// Option tunes a writer.
type Option func(*options)

// WithPooling sets the sentence-transformers pooling written to
// 1_Pooling/config.json: "mean" (default), "cls", or "" for none.
func WithPooling(mode string) Option { return func(o *options) { o.pooling = mode } }

// WithLayout chooses the decoder files of a seq2seq folder.
func WithLayout(l Layout) Option { return func(o *options) { o.layout = l } }

// WithExternalData forces tensor payloads into <model>.onnx_data files
// even when a model would fit in one protobuf. Real-size shapes always use
// external data: ONNX Runtime loads a 1 GB inline model about 8× slower
// than the same tensors from an external file (measured: mt5-small's
// session creation, 28.7 s against 3.3 s).
func WithExternalData() Option { return func(o *options) { o.external = true } }

func buildOptions(opts []Option) options {
	o := options{pooling: "mean"}
	for _, f := range opts {
		f(&o)
	}
	return o
}

func (o options) write(m *onnx.Model, path string) error {
	if _, err := m.WriteFile(path, onnx.WriteOptions{External: o.external}); err != nil {
		return fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	return nil
}

func vocabSize(shape Shape, tokenizerVocab int) (int, error) {
	if shape.Vocab == 0 {
		return tokenizerVocab, nil
	}
	if shape.Vocab < tokenizerVocab {
		return 0, fmt.Errorf("shape %q: vocab %d smaller than the tokenizer's %d", shape.Name, shape.Vocab, tokenizerVocab)
	}
	return shape.Vocab, nil
}

// WriteEncoder writes an encoder folder (model.onnx, config.json,
// tokenizer.json, tokenizer_config.json, special_tokens_map.json and,
// unless pooling is "", 1_Pooling/config.json) into dir.
func WriteEncoder(dir string, shape Shape, opts ...Option) error {
	o := buildOptions(opts)
	o.external = o.external || shape.Vocab != 0
	if shape.IsSeq2Seq() {
		return fmt.Errorf("shape %q is a seq2seq model: use WriteSeq2Seq", shape.Name)
	}
	if err := shape.validate(); err != nil {
		return err
	}
	vocab := wordPieceVocab()
	v, err := vocabSize(shape, len(vocab))
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	m := newBert(shape, v)
	if err := o.write(m.model(), filepath.Join(dir, "model.onnx")); err != nil {
		return err
	}
	if err := writeJSON(filepath.Join(dir, "config.json"), m.config()); err != nil {
		return err
	}
	if err := writeBertTokenizerFiles(dir, vocab, m.maxLength()); err != nil {
		return err
	}
	if o.pooling == "" {
		return nil
	}
	if o.pooling != "mean" && o.pooling != "cls" {
		return fmt.Errorf("pooling %q: want mean, cls or empty", o.pooling)
	}
	if err := os.MkdirAll(filepath.Join(dir, "1_Pooling"), 0o755); err != nil {
		return err
	}
	return writeJSON(filepath.Join(dir, "1_Pooling", "config.json"), map[string]any{
		"word_embedding_dimension":          shape.Hidden,
		"pooling_mode_cls_token":            o.pooling == "cls",
		"pooling_mode_mean_tokens":          o.pooling == "mean",
		"pooling_mode_max_tokens":           false,
		"pooling_mode_mean_sqrt_len_tokens": false,
		"pooling_mode_weightedmean_tokens":  false,
		"pooling_mode_lasttoken":            false,
		"include_prompt":                    true,
	})
}

// Ensure writes the tiny encoder and seq2seq folders once under
// cacheDir/tinymodels/<Version>/ and returns their paths. Concurrent
// callers (parallel test packages) are safe: each writes a private
// temporary folder and the first rename wins.
func Ensure(cacheDir string) (encoderDir, seq2seqDir string, err error) {
	base := filepath.Join(cacheDir, "tinymodels")
	final := filepath.Join(base, Version)
	encoderDir, seq2seqDir = filepath.Join(final, "encoder"), filepath.Join(final, "seq2seq")
	if st, err := os.Stat(filepath.Join(final, "complete")); err == nil && st.Mode().IsRegular() {
		return encoderDir, seq2seqDir, nil
	}
	if err := os.MkdirAll(base, 0o755); err != nil {
		return "", "", err
	}
	tmp, err := os.MkdirTemp(base, Version+".tmp-")
	if err != nil {
		return "", "", err
	}
	defer os.RemoveAll(tmp)
	if err := WriteEncoder(filepath.Join(tmp, "encoder"), TinyEncoder); err != nil {
		return "", "", err
	}
	if err := writeSeq2SeqIfAvailable(filepath.Join(tmp, "seq2seq")); err != nil {
		return "", "", err
	}
	if err := os.WriteFile(filepath.Join(tmp, "complete"), []byte(Version+"\n"), 0o644); err != nil {
		return "", "", err
	}
	if err := os.Rename(tmp, final); err != nil {
		// Another process won the race; its folder is as good as ours.
		if _, serr := os.Stat(filepath.Join(final, "complete")); serr == nil {
			return encoderDir, seq2seqDir, nil
		}
		return "", "", errors.Join(fmt.Errorf("install tiny models in %s", final), err)
	}
	return encoderDir, seq2seqDir, nil
}
