package tinymodels

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// The tokenizer files follow the Hugging Face tokenizers serialisation
// (tokenizers ≥ 0.15) of bert-base-multilingual-cased (WordPiece) and
// google/mt5-small (Unigram), so the same loader reads real exports.

type addedToken struct {
	ID         int    `json:"id"`
	Content    string `json:"content"`
	SingleWord bool   `json:"single_word"`
	Lstrip     bool   `json:"lstrip"`
	Rstrip     bool   `json:"rstrip"`
	Normalized bool   `json:"normalized"`
	Special    bool   `json:"special"`
}

type templatePiece map[string]map[string]any

func special(id string, typeID int) templatePiece {
	return templatePiece{"SpecialToken": {"id": id, "type_id": typeID}}
}

func sequence(id string, typeID int) templatePiece {
	return templatePiece{"Sequence": {"id": id, "type_id": typeID}}
}

type specialEntry struct {
	ID     string   `json:"id"`
	IDs    []int    `json:"ids"`
	Tokens []string `json:"tokens"`
}

type postProcessor struct {
	Type          string                  `json:"type"`
	Single        []templatePiece         `json:"single"`
	Pair          []templatePiece         `json:"pair"`
	SpecialTokens map[string]specialEntry `json:"special_tokens"`
}

// orderedVocab marshals a token→id object in id order.
type orderedVocab []string

func (v orderedVocab) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, tok := range v {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(tok)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		fmt.Fprintf(&b, ":%d", i)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

type tokenizerFile struct {
	Version       string         `json:"version"`
	Truncation    any            `json:"truncation"`
	Padding       any            `json:"padding"`
	AddedTokens   []addedToken   `json:"added_tokens"`
	Normalizer    any            `json:"normalizer"`
	PreTokenizer  any            `json:"pre_tokenizer"`
	PostProcessor *postProcessor `json:"post_processor"`
	Decoder       any            `json:"decoder"`
	Model         any            `json:"model"`
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

func wordPieceTokenizer(vocab []string) *tokenizerFile {
	var added []addedToken
	for i, s := range bertSpecials {
		added = append(added, addedToken{ID: i, Content: s, Special: true})
	}
	return &tokenizerFile{
		Version:     "1.0",
		AddedTokens: added,
		Normalizer: map[string]any{
			"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true,
			"strip_accents": nil, "lowercase": false,
		},
		PreTokenizer: map[string]any{"type": "BertPreTokenizer"},
		PostProcessor: &postProcessor{
			Type:   "TemplateProcessing",
			Single: []templatePiece{special("[CLS]", 0), sequence("A", 0), special("[SEP]", 0)},
			Pair: []templatePiece{special("[CLS]", 0), sequence("A", 0), special("[SEP]", 0),
				sequence("B", 1), special("[SEP]", 1)},
			SpecialTokens: map[string]specialEntry{
				"[CLS]": {ID: "[CLS]", IDs: []int{BertCLSID}, Tokens: []string{"[CLS]"}},
				"[SEP]": {ID: "[SEP]", IDs: []int{BertSEPID}, Tokens: []string{"[SEP]"}},
			},
		},
		Decoder: map[string]any{"type": "WordPiece", "prefix": "##", "cleanup": true},
		Model: struct {
			Type                    string       `json:"type"`
			UnkToken                string       `json:"unk_token"`
			ContinuingSubwordPrefix string       `json:"continuing_subword_prefix"`
			MaxInputCharsPerWord    int          `json:"max_input_chars_per_word"`
			Vocab                   orderedVocab `json:"vocab"`
		}{"WordPiece", "[UNK]", "##", 100, vocab},
	}
}

func writeBertTokenizerFiles(dir string, vocab []string, maxLen int) error {
	if err := writeJSON(filepath.Join(dir, "tokenizer.json"), wordPieceTokenizer(vocab)); err != nil {
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

func unigramTokenizer(vocab []unigramPiece) *tokenizerFile {
	pieces := make([][2]any, len(vocab))
	for i, p := range vocab {
		pieces[i] = [2]any{p.piece, p.score}
	}
	added := []addedToken{
		{ID: T5PadID, Content: "<pad>", Special: true},
		{ID: T5EOSID, Content: "</s>", Special: true},
		{ID: T5UNKID, Content: "<unk>", Special: true},
	}
	ms := map[string]any{"type": "Metaspace", "replacement": metaspace, "prepend_scheme": "always", "split": true}
	return &tokenizerFile{
		Version:      "1.0",
		AddedTokens:  added,
		Normalizer:   nil,
		PreTokenizer: map[string]any{"type": "Sequence", "pretokenizers": []any{map[string]any{"type": "WhitespaceSplit"}, ms}},
		PostProcessor: &postProcessor{
			Type:   "TemplateProcessing",
			Single: []templatePiece{sequence("A", 0), special("</s>", 0)},
			Pair:   []templatePiece{sequence("A", 0), special("</s>", 0), sequence("B", 0), special("</s>", 0)},
			SpecialTokens: map[string]specialEntry{
				"</s>": {ID: "</s>", IDs: []int{T5EOSID}, Tokens: []string{"</s>"}},
			},
		},
		Decoder: ms,
		Model: struct {
			Type        string   `json:"type"`
			UnkID       int      `json:"unk_id"`
			Vocab       [][2]any `json:"vocab"`
			ByteFallbck bool     `json:"byte_fallback"`
		}{"Unigram", T5UNKID, pieces, false},
	}
}

func writeT5TokenizerFiles(dir string, vocab []unigramPiece, maxLen int) error {
	if err := writeJSON(filepath.Join(dir, "tokenizer.json"), unigramTokenizer(vocab)); err != nil {
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
