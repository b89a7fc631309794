package tokenizer

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
)

// WordPieceOptions configures WriteWordPieceJSON. The zero value writes an
// uncased-BERT style pipeline.
type WordPieceOptions struct {
	// Cased keeps case and accents (BertNormalizer lowercase=false).
	Cased bool
	// Special lists the special tokens (default [PAD] [UNK] [CLS] [SEP]
	// [MASK]); each must be in the vocabulary.
	Special []string
	// Unk, CLS and SEP default to [UNK], [CLS], [SEP].
	Unk, CLS, SEP string
	// MaxInputCharsPerWord defaults to 100.
	MaxInputCharsPerWord int
}

// WriteWordPieceJSON writes a Hugging Face tokenizer.json for a BERT
// WordPiece vocabulary (id = index in vocab): BertNormalizer,
// BertPreTokenizer, WordPiece, [CLS] A [SEP] (B [SEP]) and the WordPiece
// decoder.
func WriteWordPieceJSON(w io.Writer, vocab []string, opts ...WordPieceOptions) error {
	var o WordPieceOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.Unk == "" {
		o.Unk = "[UNK]"
	}
	if o.CLS == "" {
		o.CLS = "[CLS]"
	}
	if o.SEP == "" {
		o.SEP = "[SEP]"
	}
	if o.Special == nil {
		o.Special = []string{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}
	}
	if o.MaxInputCharsPerWord == 0 {
		o.MaxInputCharsPerWord = 100
	}
	ids := make(map[string]int, len(vocab))
	for i, v := range vocab {
		if _, dup := ids[v]; dup {
			return fmt.Errorf("write tokenizer.json: token %q appears twice in the vocabulary", v)
		}
		ids[v] = i
	}
	for _, s := range append([]string{o.Unk, o.CLS, o.SEP}, o.Special...) {
		if _, ok := ids[s]; !ok {
			return fmt.Errorf("write tokenizer.json: special token %q is not in the vocabulary", s)
		}
	}
	var b bytes.Buffer
	b.WriteString(`{"version":"1.0","truncation":null,"padding":null,"added_tokens":[`)
	writeAdded(&b, o.Special, ids)
	fmt.Fprintf(&b, `],"normalizer":{"type":"BertNormalizer","clean_text":true,"handle_chinese_chars":true,"strip_accents":null,"lowercase":%t},`, !o.Cased)
	b.WriteString(`"pre_tokenizer":{"type":"BertPreTokenizer"},"post_processor":{"type":"TemplateProcessing","single":[`)
	fmt.Fprintf(&b, `{"SpecialToken":{"id":%s,"type_id":0}},{"Sequence":{"id":"A","type_id":0}},{"SpecialToken":{"id":%s,"type_id":0}}],"pair":[`, q(o.CLS), q(o.SEP))
	fmt.Fprintf(&b, `{"SpecialToken":{"id":%s,"type_id":0}},{"Sequence":{"id":"A","type_id":0}},{"SpecialToken":{"id":%s,"type_id":0}},{"Sequence":{"id":"B","type_id":1}},{"SpecialToken":{"id":%s,"type_id":1}}],`, q(o.CLS), q(o.SEP), q(o.SEP))
	fmt.Fprintf(&b, `"special_tokens":{%s:{"id":%s,"ids":[%d],"tokens":[%s]},%s:{"id":%s,"ids":[%d],"tokens":[%s]}}},`,
		q(o.CLS), q(o.CLS), ids[o.CLS], q(o.CLS), q(o.SEP), q(o.SEP), ids[o.SEP], q(o.SEP))
	b.WriteString(`"decoder":{"type":"WordPiece","prefix":"##","cleanup":true},`)
	fmt.Fprintf(&b, `"model":{"type":"WordPiece","unk_token":%s,"continuing_subword_prefix":"##","max_input_chars_per_word":%d,"vocab":{`, q(o.Unk), o.MaxInputCharsPerWord)
	for i, v := range vocab {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%s:%d", q(v), i)
	}
	b.WriteString("}}}\n")
	_, err := w.Write(b.Bytes())
	return err
}

func writeAdded(b *bytes.Buffer, special []string, ids map[string]int) {
	for i, s := range special {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(b, `{"id":%d,"content":%s,"single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true}`, ids[s], q(s))
	}
}

func q(s string) string {
	j, _ := json.Marshal(s)
	return string(j)
}

// Piece is one Unigram vocabulary entry with its log-probability score.
type Piece struct {
	Piece string
	Score float64
}

// UnigramOptions configures WriteUnigramJSON. The zero value writes a T5
// style pipeline: <pad>=0 </s>=1 <unk>=2 must then be the first pieces.
type UnigramOptions struct {
	// Unk is the unknown piece (default <unk>).
	Unk string
	// Special lists special pieces (default <pad> </s> <unk>).
	Special []string
	// EOS is appended to every sequence by TemplateProcessing (default
	// </s>); set NoEOS to write no post-processor.
	EOS   string
	NoEOS bool
	// Charsmap is a SentencePiece precompiled_charsmap; nil writes no
	// Precompiled normalizer.
	Charsmap []byte
	// ByteFallback enables <0xNN> pieces for unknown characters.
	ByteFallback bool
	// NoPrefixSpace writes Metaspace prepend_scheme "never" (SentencePiece
	// add_dummy_prefix=false).
	NoPrefixSpace bool
	// KeepWhitespace leaves out Strip and the collapse of repeated spaces
	// (SentencePiece remove_extra_whitespaces=false).
	KeepWhitespace bool
}

// WriteUnigramJSON writes a Hugging Face tokenizer.json for a SentencePiece
// Unigram vocabulary (id = index in pieces): [Precompiled,] Strip, collapse
// repeated spaces, Metaspace (prepend always), Unigram, EOS appended, and
// the Metaspace decoder.
func WriteUnigramJSON(w io.Writer, pieces []Piece, opts ...UnigramOptions) error {
	var o UnigramOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.Unk == "" {
		o.Unk = "<unk>"
	}
	if o.Special == nil {
		o.Special = []string{"<pad>", "</s>", "<unk>"}
	}
	if o.EOS == "" && !o.NoEOS {
		o.EOS = "</s>"
	}
	ids := make(map[string]int, len(pieces))
	for i, p := range pieces {
		if _, dup := ids[p.Piece]; dup {
			return fmt.Errorf("write tokenizer.json: piece %q appears twice", p.Piece)
		}
		ids[p.Piece] = i
	}
	need := append([]string{o.Unk}, o.Special...)
	if o.EOS != "" {
		need = append(need, o.EOS)
	}
	for _, s := range need {
		if _, ok := ids[s]; !ok {
			return fmt.Errorf("write tokenizer.json: special piece %q is not in the vocabulary", s)
		}
	}
	var b bytes.Buffer
	b.WriteString(`{"version":"1.0","truncation":null,"padding":null,"added_tokens":[`)
	writeAdded(&b, o.Special, ids)
	b.WriteString(`],"normalizer":{"type":"Sequence","normalizers":[`)
	if o.Charsmap != nil {
		fmt.Fprintf(&b, `{"type":"Precompiled","precompiled_charsmap":%s},`, q(base64.StdEncoding.EncodeToString(o.Charsmap)))
	}
	if !o.KeepWhitespace {
		b.WriteString(`{"type":"Strip","strip_left":true,"strip_right":true},{"type":"Replace","pattern":{"Regex":" {2,}"},"content":" "}`)
	}
	if bytes.HasSuffix(b.Bytes(), []byte(",")) {
		b.Truncate(b.Len() - 1)
	}
	b.WriteString(`]},`)
	scheme := "always"
	if o.NoPrefixSpace {
		scheme = "never"
	}
	fmt.Fprintf(&b, `"pre_tokenizer":{"type":"Metaspace","replacement":"▁","prepend_scheme":%q,"split":true},`, scheme)
	if o.EOS != "" {
		fmt.Fprintf(&b, `"post_processor":{"type":"TemplateProcessing","single":[{"Sequence":{"id":"A","type_id":0}},{"SpecialToken":{"id":%s,"type_id":0}}],`, q(o.EOS))
		fmt.Fprintf(&b, `"pair":[{"Sequence":{"id":"A","type_id":0}},{"SpecialToken":{"id":%s,"type_id":0}},{"Sequence":{"id":"B","type_id":0}},{"SpecialToken":{"id":%s,"type_id":0}}],`, q(o.EOS), q(o.EOS))
		fmt.Fprintf(&b, `"special_tokens":{%s:{"id":%s,"ids":[%d],"tokens":[%s]}}},`, q(o.EOS), q(o.EOS), ids[o.EOS], q(o.EOS))
	} else {
		b.WriteString(`"post_processor":null,`)
	}
	if o.ByteFallback {
		b.WriteString(`"decoder":{"type":"Sequence","decoders":[{"type":"Replace","pattern":{"String":"▁"},"content":" "},{"type":"ByteFallback"},{"type":"Fuse"},{"type":"Strip","content":" ","start":1,"stop":0}]},`)
	} else {
		fmt.Fprintf(&b, `"decoder":{"type":"Metaspace","replacement":"▁","prepend_scheme":%q,"split":true},`, scheme)
	}
	fmt.Fprintf(&b, `"model":{"type":"Unigram","unk_id":%d,"byte_fallback":%t,"vocab":[`, ids[o.Unk], o.ByteFallback)
	for i, p := range pieces {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "[%s,%s]", q(p.Piece), strconv.FormatFloat(p.Score, 'g', -1, 64))
	}
	b.WriteString("]}}\n")
	_, err := w.Write(b.Bytes())
	return err
}

// ConvertSentencePiece writes a Hugging Face tokenizer.json equivalent to a
// SentencePiece Unigram .model: its charsmap as Precompiled, whitespace
// handling as Strip and Replace, Metaspace, the pieces with their scores,
// control and unknown pieces as special tokens, and no post-processor
// (spm_encode adds no BOS/EOS by default).
func ConvertSentencePiece(w io.Writer, model []byte) error {
	m, err := parseSentencePiece(model)
	if err != nil {
		return err
	}
	if m.modelType != 1 {
		return fmt.Errorf("sentencepiece model: model_type %d unsupported (only UNIGRAM)", m.modelType)
	}
	o := UnigramOptions{NoEOS: true, Charsmap: m.charsmap, ByteFallback: m.byteFallback,
		NoPrefixSpace: !m.addDummyPrefix, KeepWhitespace: !m.removeExtraWS, Special: []string{}}
	pieces := make([]Piece, len(m.pieces))
	for i, p := range m.pieces {
		// float64(float32) keeps the exact score, as Python's converter does.
		pieces[i] = Piece{p.piece, float64(p.score)}
		switch p.typ {
		case spmUnknown:
			o.Unk = p.piece
			o.Special = append(o.Special, p.piece)
		case spmControl:
			o.Special = append(o.Special, p.piece)
		}
	}
	if o.Unk == "" {
		return fmt.Errorf("sentencepiece model: no UNKNOWN piece")
	}
	return WriteUnigramJSON(w, pieces, o)
}
