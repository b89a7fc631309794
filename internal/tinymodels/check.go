package tinymodels

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/xqg/xqg/internal/onnx"
	"github.com/xqg/xqg/vectorizer/tokenizer"
)

// Kind is the kind of model folder.
type Kind string

// Folder kinds.
const (
	KindUnknown Kind = "unknown"
	KindEncoder Kind = "encoder"
	KindSeq2Seq Kind = "seq2seq"
)

// Problem is one defect of a model folder, attributed to a file.
type Problem struct {
	File string // relative to the folder
	Msg  string
}

func (p Problem) String() string { return p.File + ": " + p.Msg }

// Report is the result of Check.
type Report struct {
	Dir      string
	Kind     Kind
	Checked  []string // files that were inspected
	Problems []Problem
}

// Err is nil when the folder has no problems, else one error listing them
// all, each with its file.
func (r *Report) Err() error {
	if len(r.Problems) == 0 {
		return nil
	}
	lines := make([]string, len(r.Problems))
	for i, p := range r.Problems {
		lines[i] = "  " + p.String()
	}
	return fmt.Errorf("model folder %s (%s) has %d problem(s):\n%s", r.Dir, r.Kind, len(r.Problems), strings.Join(lines, "\n"))
}

func (r *Report) add(file, format string, args ...any) {
	r.Problems = append(r.Problems, Problem{File: file, Msg: fmt.Sprintf(format, args...)})
}

// Check validates a model folder as xqg's encoder and generator will read
// it: which kind it is (by its files, else config.json's model_type), that
// every needed file is present, that the ONNX graphs have the expected
// input and output names, element types and ranks (and fixed sizes that
// match config.json), that external data files exist and are long enough,
// that the JSON files parse and that tokenizer.json loads. The error is
// only for an unreadable folder; defects are in Report.Problems.
func Check(dir string) (*Report, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", dir)
	}
	r := &Report{Dir: dir, Kind: detectKind(dir)}
	switch r.Kind {
	case KindEncoder:
		checkEncoder(r)
	case KindSeq2Seq:
		checkSeq2Seq(r)
	default:
		r.add("model.onnx", "missing: no model.onnx (encoder) or encoder_model.onnx (seq2seq), and config.json names no known model_type")
	}
	return r, nil
}

func exists(dir, name string) bool {
	st, err := os.Stat(filepath.Join(dir, name))
	return err == nil && st.Mode().IsRegular()
}

var seq2seqTypes = map[string]bool{"t5": true, "mt5": true, "umt5": true}

func detectKind(dir string) Kind {
	if exists(dir, "model.onnx") {
		return KindEncoder
	}
	for _, f := range []string{EncoderFile, DecoderFile, DecoderWithPastFile, DecoderMergedFile} {
		if exists(dir, f) {
			return KindSeq2Seq
		}
	}
	var cfg struct {
		ModelType string `json:"model_type"`
	}
	if b, err := os.ReadFile(filepath.Join(dir, "config.json")); err == nil && json.Unmarshal(b, &cfg) == nil && cfg.ModelType != "" {
		if seq2seqTypes[cfg.ModelType] {
			return KindSeq2Seq
		}
		return KindEncoder
	}
	return KindUnknown
}

// readJSON parses file into v, reporting a missing (when required) or
// malformed file. It returns whether v was filled.
func (r *Report) readJSON(file string, required bool, v any) bool {
	b, err := os.ReadFile(filepath.Join(r.Dir, file))
	if errors.Is(err, os.ErrNotExist) {
		if required {
			r.add(file, "missing")
		}
		return false
	}
	r.Checked = append(r.Checked, file)
	if err != nil {
		r.add(file, "%v", err)
		return false
	}
	if err := json.Unmarshal(b, v); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			r.add(file, "invalid JSON at byte %d: %v", se.Offset, err)
		} else {
			r.add(file, "unexpected JSON: %v", err)
		}
		return false
	}
	return true
}

// tensorSpec is an expected graph input or output.
type tensorSpec struct {
	name string
	typ  onnx.DataType
	dims []int64 // expected rank; entries > 0 must match fixed sizes
}

func spec(name string, typ onnx.DataType, dims ...int64) tensorSpec {
	return tensorSpec{name: name, typ: typ, dims: dims}
}

// checkONNX reads a model's interface and compares it with the specs.
// Optional inputs may be absent; any other input xqg would not feed is a
// problem, extra outputs are not.
func (r *Report) checkONNX(file string, required bool, inputs, optionalInputs, outputs []tensorSpec) *onnx.ModelInfo {
	path := filepath.Join(r.Dir, file)
	if !exists(r.Dir, file) {
		if required {
			r.add(file, "missing")
		}
		return nil
	}
	r.Checked = append(r.Checked, file)
	info, err := onnx.ReadInfo(path)
	if err != nil {
		r.add(file, "unreadable: %v", unwrapPath(err, path))
		return nil
	}
	known := map[string]bool{}
	for _, s := range append(append([]tensorSpec{}, inputs...), optionalInputs...) {
		known[s.name] = true
	}
	match := func(kind string, vs []onnx.ValueInfo, s tensorSpec, required bool) {
		var v *onnx.ValueInfo
		for i := range vs {
			if vs[i].Name == s.name {
				v = &vs[i]
			}
		}
		if v == nil {
			if required {
				r.add(file, "no %s named %q (has %s)", kind, s.name, names(vs))
			}
			return
		}
		if v.Type != s.typ {
			r.add(file, "%s %q is %v, want %v", kind, s.name, v.Type, s.typ)
		}
		if v.Shape != nil && len(v.Shape) != len(s.dims) {
			r.add(file, "%s %q has rank %d %v, want rank %d", kind, s.name, len(v.Shape), v.Shape, len(s.dims))
			return
		}
		for i, d := range s.dims {
			if v.Shape != nil && d > 0 && v.Shape[i].Param == "" && v.Shape[i].Value > 0 && v.Shape[i].Value != d {
				r.add(file, "%s %q dimension %d is %d, config.json implies %d", kind, s.name, i, v.Shape[i].Value, d)
			}
		}
	}
	for _, s := range inputs {
		match("input", info.Inputs, s, true)
	}
	for _, s := range optionalInputs {
		match("input", info.Inputs, s, false)
	}
	for _, v := range info.Inputs {
		if !known[v.Name] {
			r.add(file, "unexpected input %q: xqg does not feed it", v.Name)
		}
	}
	for _, s := range outputs {
		match("output", info.Outputs, s, true)
	}
	r.checkExternal(file, info)
	return info
}

func unwrapPath(err error, path string) string {
	return strings.TrimPrefix(err.Error(), path+": ")
}

func names(vs []onnx.ValueInfo) string {
	if len(vs) == 0 {
		return "none"
	}
	var out []string
	for _, v := range vs {
		out = append(out, v.Name)
	}
	if len(out) > 6 {
		out = append(out[:6], fmt.Sprintf("… %d more", len(out)-6))
	}
	return strings.Join(out, ", ")
}

func (r *Report) checkExternal(file string, info *onnx.ModelInfo) {
	need := map[string]int64{}
	for _, t := range info.Initializers {
		if t.ExternalLocation == "" {
			continue
		}
		if filepath.IsAbs(t.ExternalLocation) || strings.Contains(filepath.ToSlash(t.ExternalLocation), "..") {
			r.add(file, "tensor %q: external data location %q leaves the folder", t.Name, t.ExternalLocation)
			continue
		}
		length := t.ExternalLength
		if length < 0 {
			length = t.NumBytes()
		}
		if end := t.ExternalOffset + length; end > need[t.ExternalLocation] {
			need[t.ExternalLocation] = end
		}
	}
	locs := make([]string, 0, len(need))
	for l := range need {
		locs = append(locs, l)
	}
	sort.Strings(locs)
	for _, loc := range locs {
		st, err := os.Stat(filepath.Join(r.Dir, loc))
		if err != nil {
			r.add(loc, "missing (external data of %s)", file)
			continue
		}
		r.Checked = append(r.Checked, loc)
		if st.Size() < need[loc] {
			r.add(loc, "%d bytes, but %s's tensors need %d", st.Size(), file, need[loc])
		}
	}
}

func (r *Report) checkTokenizer(modelVocab int) {
	const file = "tokenizer.json"
	if !exists(r.Dir, file) {
		r.add(file, "missing")
		return
	}
	r.Checked = append(r.Checked, file)
	tok, err := tokenizer.LoadFile(filepath.Join(r.Dir, file))
	if err != nil {
		r.add(file, "does not load: %v", err)
		return
	}
	if modelVocab > 0 && tok.VocabSize() > modelVocab {
		r.add(file, "vocabulary of %d tokens exceeds config.json vocab_size %d", tok.VocabSize(), modelVocab)
	}
}

func (r *Report) optionalJSON(files ...string) {
	for _, f := range files {
		var v map[string]any
		r.readJSON(f, false, &v)
	}
}

type encoderConfig struct {
	ModelType  string `json:"model_type"`
	HiddenSize int    `json:"hidden_size"`
	VocabSize  int    `json:"vocab_size"`
	// DistilBERT spells it dim.
	Dim int `json:"dim"`
}

func checkEncoder(r *Report) {
	var cfg encoderConfig
	if r.readJSON("config.json", true, &cfg) {
		if cfg.ModelType == "" {
			r.add("config.json", "no model_type")
		}
		if cfg.HiddenSize == 0 {
			cfg.HiddenSize = cfg.Dim
		}
		if seq2seqTypes[cfg.ModelType] {
			r.add("config.json", "model_type %q is a seq2seq model, but the folder has model.onnx", cfg.ModelType)
		}
	}
	h := int64(cfg.HiddenSize)
	ids := []tensorSpec{spec("input_ids", onnx.Int64, -1, -1), spec("attention_mask", onnx.Int64, -1, -1)}
	r.checkONNX("model.onnx", true, ids, []tensorSpec{spec("token_type_ids", onnx.Int64, -1, -1)},
		[]tensorSpec{spec("last_hidden_state", onnx.Float, -1, -1, h)})
	r.checkTokenizer(cfg.VocabSize)
	r.optionalJSON("tokenizer_config.json", "special_tokens_map.json")

	var pool map[string]any
	if r.readJSON(filepath.Join("1_Pooling", "config.json"), false, &pool) {
		const file = "1_Pooling/config.json"
		var modes []string
		for k, v := range pool {
			if on, ok := v.(bool); ok && on && strings.HasPrefix(k, "pooling_mode_") {
				modes = append(modes, strings.TrimPrefix(k, "pooling_mode_"))
			}
		}
		sort.Strings(modes)
		switch {
		case len(modes) != 1:
			r.add(file, "want exactly one pooling mode, found %v", modes)
		case modes[0] != "cls_token" && modes[0] != "mean_tokens":
			r.add(file, "pooling mode %s is not supported (cls_token, mean_tokens)", modes[0])
		}
		if d, ok := pool["word_embedding_dimension"].(float64); ok && h > 0 && int64(d) != h {
			r.add(file, "word_embedding_dimension %d differs from config.json hidden_size %d", int64(d), h)
		}
	}
}

type t5Config struct {
	ModelType        string `json:"model_type"`
	DModel           int    `json:"d_model"`
	DKV              int    `json:"d_kv"`
	NumHeads         int    `json:"num_heads"`
	NumLayers        int    `json:"num_layers"`
	NumDecoderLayers int    `json:"num_decoder_layers"`
	VocabSize        int    `json:"vocab_size"`
	DecoderStart     *int   `json:"decoder_start_token_id"`
	EOS              any    `json:"eos_token_id"`
}

func checkSeq2Seq(r *Report) {
	var cfg t5Config
	if r.readJSON("config.json", true, &cfg) {
		if !seq2seqTypes[cfg.ModelType] {
			r.add("config.json", "model_type %q: the generator supports t5, mt5 and umt5", cfg.ModelType)
		}
		for _, f := range []struct {
			name string
			v    int
		}{{"d_model", cfg.DModel}, {"num_heads", cfg.NumHeads}, {"num_layers", cfg.NumLayers}, {"vocab_size", cfg.VocabSize}} {
			if f.v <= 0 {
				r.add("config.json", "%s missing or not positive", f.name)
			}
		}
		if cfg.DecoderStart == nil {
			r.add("config.json", "decoder_start_token_id missing")
		}
		if cfg.EOS == nil {
			r.add("config.json", "eos_token_id missing")
		}
	}
	layers := cfg.NumDecoderLayers
	if layers == 0 {
		layers = cfg.NumLayers
	}
	if layers == 0 {
		// Without a usable config, count the layers from a decoder's
		// outputs so its interface is still checked.
		for _, f := range []string{DecoderFile, DecoderMergedFile, DecoderWithPastFile} {
			if info, err := onnx.ReadInfo(filepath.Join(r.Dir, f)); err == nil {
				for _, o := range info.Outputs {
					if strings.HasPrefix(o.Name, "present.") && strings.HasSuffix(o.Name, ".decoder.key") {
						layers++
					}
				}
				break
			}
		}
	}
	d, nh, dkv, v := int64(cfg.DModel), int64(cfg.NumHeads), int64(cfg.DKV), int64(cfg.VocabSize)

	r.checkONNX(EncoderFile, true,
		[]tensorSpec{spec("input_ids", onnx.Int64, -1, -1), spec("attention_mask", onnx.Int64, -1, -1)}, nil,
		[]tensorSpec{spec("last_hidden_state", onnx.Float, -1, -1, d)})

	kv := func(prefix string, withEncoder bool) []tensorSpec {
		var out []tensorSpec
		for i := 0; i < layers; i++ {
			parts := []string{"decoder"}
			if withEncoder {
				parts = append(parts, "encoder")
			}
			for _, part := range parts {
				for _, x := range []string{"key", "value"} {
					out = append(out, spec(pastName(prefix, i, part, x), onnx.Float, -1, nh, -1, dkv))
				}
			}
		}
		return out
	}
	logits := spec("logits", onnx.Float, -1, -1, v)
	mask := spec("encoder_attention_mask", onnx.Int64, -1, -1)
	ids := spec("input_ids", onnx.Int64, -1, -1)
	hidden := spec("encoder_hidden_states", onnx.Float, -1, -1, d)

	hasSplit := exists(r.Dir, DecoderFile)
	hasPast := exists(r.Dir, DecoderWithPastFile)
	hasMerged := exists(r.Dir, DecoderMergedFile)
	switch {
	case !hasSplit && !hasMerged:
		r.add(DecoderFile, "missing (and no %s either)", DecoderMergedFile)
	case hasSplit && !hasPast && !hasMerged:
		r.add(DecoderWithPastFile, "missing: cached decoding needs it next to %s, or use %s", DecoderFile, DecoderMergedFile)
	}
	if layers > 0 {
		if hasSplit {
			r.checkONNX(DecoderFile, true, []tensorSpec{mask, ids, hidden}, nil, append([]tensorSpec{logits}, kv("present", true)...))
		}
		if hasPast {
			// Optimum's with-past T5 export drops encoder_hidden_states
			// (the cross-attention cache replaces it); accept either.
			r.checkONNX(DecoderWithPastFile, true, append([]tensorSpec{mask, ids}, kv("past_key_values", true)...),
				[]tensorSpec{hidden}, append([]tensorSpec{logits}, kv("present", false)...))
		}
		if hasMerged {
			r.checkONNX(DecoderMergedFile, true,
				append([]tensorSpec{mask, ids, hidden, spec("use_cache_branch", onnx.Bool, 1)}, kv("past_key_values", true)...),
				nil, append([]tensorSpec{logits}, kv("present", true)...))
		}
	}
	r.checkTokenizer(cfg.VocabSize)
	r.optionalJSON("generation_config.json", "tokenizer_config.json", "special_tokens_map.json")
}
