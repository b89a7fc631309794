package tinymodels

import (
	"io"

	"bytes"
	"encoding/json"
	"fmt"
	"github.com/xqg/xqg/vectorizer/tokenizer"
	"os"
	"path/filepath"
)

// tokenizer.json comes from the tokenizer package's writers (the Hugging
// Face serialisation of bert-base-multilingual-cased's WordPiece and
// google/mt5-small's Unigram pipelines); the side files are written here.

func writeFile(path string, fill func(w io.Writer) error) error {
	var b bytes.Buffer
	if err := fill(&b); err != nil {
		return fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

func writeBertTokenizerFiles(dir string, vocab []string, maxLen int) error {
	if err := writeFile(filepath.Join(dir, "tokenizer.json"), func(w io.Writer) error {
		return tokenizer.WriteWordPieceJSON(w, vocab, tokenizer.WordPieceOptions{Cased: true, Special: bertSpecials})
	}); err != nil {
		return err
	}
	if err := writeJSON(filepath.Join(dir, "tokenizer_config.json"), map[string]any{
		"tokenizer_class": "BertTokenizer", "do_lower_case": false, "model_max_length": maxLen,
		"pad_token": "[PAD]", "unk_token": "[UNK]", "cls_token": "[CLS]", "sep_token": "[SEP]",
		"mask_token": "[MASK]", "clean_up_tokenization_spaces": true, "tokenize_chinese_chars": true,
		"strip_accents": nil,
	}); err != nil {
		return err
	}
	return writeJSON(filepath.Join(dir, "special_tokens_map.json"), map[string]any{
		"pad_token": "[PAD]", "unk_token": "[UNK]", "cls_token": "[CLS]", "sep_token": "[SEP]", "mask_token": "[MASK]",
	})
}

func writeT5TokenizerFiles(dir string, vocab []unigramPiece, maxLen int) error {
	pieces := make([]tokenizer.Piece, len(vocab))
	for i, p := range vocab {
		pieces[i] = tokenizer.Piece{Piece: p.piece, Score: p.score}
	}
	if err := writeFile(filepath.Join(dir, "tokenizer.json"), func(w io.Writer) error {
		return tokenizer.WriteUnigramJSON(w, pieces)
	}); err != nil {
		return err
	}
	if err := writeJSON(filepath.Join(dir, "tokenizer_config.json"), map[string]any{
		"tokenizer_class": "T5Tokenizer", "model_max_length": maxLen, "eos_token": "</s>",
		"unk_token": "<unk>", "pad_token": "<pad>", "extra_ids": 0, "legacy": true,
	}); err != nil {
		return err
	}
	return writeJSON(filepath.Join(dir, "special_tokens_map.json"), map[string]any{
		"eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>",
	})
}

func writeT5TokenizerFilesDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return writeT5TokenizerFiles(dir, unigramVocab(), 512)
}
