package tinymodels

import (
	"fmt"
	"os"
	"path/filepath"
)

// Seq2Seq file names, as Optimum writes them.
const (
	EncoderFile         = "encoder_model.onnx"
	DecoderFile         = "decoder_model.onnx"
	DecoderWithPastFile = "decoder_with_past_model.onnx"
	DecoderMergedFile   = "decoder_model_merged.onnx"
)

// WriteSeq2Seq writes a T5/mT5 folder into dir: encoder_model.onnx, the
// decoder files the layout asks for (default: all of decoder_model.onnx,
// decoder_with_past_model.onnx and decoder_model_merged.onnx),
// config.json, generation_config.json, tokenizer.json,
// tokenizer_config.json and special_tokens_map.json.
func WriteSeq2Seq(dir string, shape Shape, opts ...Option) error {
	o := buildOptions(opts)
	o.external = o.external || shape.Vocab != 0
	if !shape.IsSeq2Seq() {
		return fmt.Errorf("shape %q is an encoder: use WriteEncoder", shape.Name)
	}
	if err := shape.validate(); err != nil {
		return err
	}
	vocab := unigramVocab()
	v, err := vocabSize(shape, len(vocab))
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	m := newT5(shape, v)
	if shape.Vocab == 0 {
		m.shapeGeneration(vocab)
	}
	if err := o.write(m.encoderModel(), filepath.Join(dir, EncoderFile)); err != nil {
		return err
	}
	var variants []decoderVariant
	var names []string
	switch o.layout {
	case LayoutAll:
		variants, names = []decoderVariant{decNoPast, decWithPast, decMerged}, []string{DecoderFile, DecoderWithPastFile, DecoderMergedFile}
	case LayoutSplit:
		variants, names = []decoderVariant{decNoPast, decWithPast}, []string{DecoderFile, DecoderWithPastFile}
	case LayoutMerged:
		variants, names = []decoderVariant{decMerged}, []string{DecoderMergedFile}
	default:
		return fmt.Errorf("unknown layout %d", o.layout)
	}
	for i, v := range variants {
		if err := o.write(m.decoderModel(v), filepath.Join(dir, names[i])); err != nil {
			return err
		}
	}
	if err := writeJSON(filepath.Join(dir, "config.json"), m.config()); err != nil {
		return err
	}
	if err := writeJSON(filepath.Join(dir, "generation_config.json"), m.generationConfig()); err != nil {
		return err
	}
	return writeT5TokenizerFiles(dir, vocab, 512)
}

func writeSeq2SeqIfAvailable(dir string) error { return WriteSeq2Seq(dir, TinySeq2Seq) }
