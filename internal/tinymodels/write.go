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
	final := filepath.Join(cacheDir, "tinymodels", Version)
	err = ensureDir(final, func(tmp string) error {
		if err := WriteEncoder(filepath.Join(tmp, "encoder"), TinyEncoder); err != nil {
			return err
		}
		return WriteSeq2Seq(filepath.Join(tmp, "seq2seq"), TinySeq2Seq)
	})
	if err != nil {
		return "", "", err
	}
	return filepath.Join(final, "encoder"), filepath.Join(final, "seq2seq"), nil
}

// EnsureShape writes one model of any shape (seq2seq ones with all decoder
// files) once under cacheDir/tinymodels/<Version>-shapes/<name>/ and
// returns the folder; for benchmarks. Folders of the same shape from other
// Versions are removed, since real sizes take GBs.
func EnsureShape(cacheDir string, shape Shape) (string, error) {
	base := filepath.Join(cacheDir, "tinymodels")
	final := filepath.Join(base, Version+"-shapes", shape.Name)
	if old, _ := filepath.Glob(filepath.Join(base, "*-shapes", shape.Name)); len(old) > 0 {
		for _, o := range old {
			if o != final {
				_ = os.RemoveAll(o)
			}
		}
	}
	err := ensureDir(final, func(tmp string) error {
		if shape.IsSeq2Seq() {
			return WriteSeq2Seq(tmp, shape)
		}
		return WriteEncoder(tmp, shape)
	})
	return final, err
}

// ensureDir fills final once: write into a temporary sibling, mark it
// complete, rename. A final folder without the marker (emptied or edited
// by hand) is replaced.
func ensureDir(final string, write func(tmp string) error) error {
	marker := filepath.Join(final, "complete")
	if st, err := os.Stat(marker); err == nil && st.Mode().IsRegular() {
		return nil
	}
	parent := filepath.Dir(final)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(parent, filepath.Base(final)+".tmp-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := write(tmp); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(tmp, "complete"), []byte(Version+"\n"), 0o644); err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		err := os.Rename(tmp, final)
		if err == nil {
			return nil
		}
		// Another process may have won the race; its folder is as good
		// as ours.
		if _, serr := os.Stat(marker); serr == nil {
			return nil
		}
		if attempt > 0 {
			return fmt.Errorf("install models in %s: %w", final, err)
		}
		if rerr := os.RemoveAll(final); rerr != nil {
			return errors.Join(fmt.Errorf("install models in %s: %w", final, err), rerr)
		}
	}
}
