package tinymodels

import (
	"fmt"
	"math"

	"github.com/xqg/xqg/internal/onnx"
)

// T5 v1.1 / mT5 as Hugging Face implements it: RMS layer norm without mean
// or bias, unscaled dot-product attention, a learned relative position bias
// in the first layer of each stack (shared by the others), gated-GELU
// (tanh approximation, "gelu_new") feed-forward, untied lm_head.

const t5LayerNormEps = 1e-6

type t5Model struct {
	shape  Shape
	vocab  int
	ps     *paramSet
	tables map[bool]*onnx.Tensor
}

func (m *t5Model) bucketTensor(bidirectional bool) *onnx.Tensor {
	if t, ok := m.tables[bidirectional]; ok {
		return t
	}
	name := "decoder.relative_position_bucket_table"
	if bidirectional {
		name = "encoder.relative_position_bucket_table"
	}
	s := m.shape
	t := &onnx.Tensor{Name: name, Type: onnx.Int64, Dims: []int64{int64(2*s.MaxDistance + 1)},
		Raw: onnx.Int64Bytes(bucketTable(bidirectional, s.Buckets, s.MaxDistance))}
	m.tables[bidirectional] = t
	return t
}

func encName(i int, s string) string { return fmt.Sprintf("encoder.block.%d.layer.%s", i, s) }
func decName(i int, s string) string { return fmt.Sprintf("decoder.block.%d.layer.%s", i, s) }

const (
	encRelBias = "encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"
	decRelBias = "decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"
)

func newT5(shape Shape, vocab int) *t5Model {
	m := &t5Model{shape: shape, vocab: vocab, ps: newParamSet(shape.Seed), tables: map[bool]*onnx.Tensor{}}
	d, inner, ff := int64(shape.Hidden), int64(shape.Heads*shape.HeadDim), int64(shape.Intermediate)
	ps := m.ps
	inv := func(x int64) float32 { return float32(1 / math.Sqrt(float64(x))) }
	ps.add("shared.weight", 0, 1, int64(vocab), d)
	attn := func(prefix string) {
		ps.add(prefix+".q.weight", 0, inv(d*int64(shape.HeadDim)), d, inner)
		ps.add(prefix+".k.weight", 0, inv(d), d, inner)
		ps.add(prefix+".v.weight", 0, inv(d), d, inner)
		ps.add(prefix+".o.weight", 0, inv(inner), inner, d)
	}
	ffn := func(prefix string) {
		ps.add(prefix+".DenseReluDense.wi_0.weight", 0, inv(d), d, ff)
		ps.add(prefix+".DenseReluDense.wi_1.weight", 0, inv(d), d, ff)
		ps.add(prefix+".DenseReluDense.wo.weight", 0, inv(ff), ff, d)
		ps.add(prefix+".layer_norm.weight", 1, 0.1, d)
	}
	ps.add(encRelBias, 0, 0.5, int64(shape.Buckets), int64(shape.Heads))
	for i := 0; i < shape.Layers; i++ {
		attn(encName(i, "0.SelfAttention"))
		ps.add(encName(i, "0.layer_norm.weight"), 1, 0.1, d)
		ffn(encName(i, "1"))
	}
	ps.add("encoder.final_layer_norm.weight", 1, 0.1, d)
	ps.add(decRelBias, 0, 0.5, int64(shape.Buckets), int64(shape.Heads))
	for i := 0; i < shape.DecoderLayers; i++ {
		attn(decName(i, "0.SelfAttention"))
		ps.add(decName(i, "0.layer_norm.weight"), 1, 0.1, d)
		attn(decName(i, "1.EncDecAttention"))
		ps.add(decName(i, "1.layer_norm.weight"), 1, 0.1, d)
		ffn(decName(i, "2"))
	}
	ps.add("decoder.final_layer_norm.weight", 1, 0.1, d)
	ps.add("lm_head.weight", 0, 2*inv(d), d, int64(vocab))
	return m
}

// relativeBucket is HF's T5Attention._relative_position_bucket for one
// relative position (memory − query), with torch's float32 arithmetic.
func relativeBucket(rel int, bidirectional bool, numBuckets, maxDistance int) int {
	bucket := 0
	n := 0
	if bidirectional {
		numBuckets /= 2
		if rel > 0 {
			bucket += numBuckets
		}
		n = rel
		if n < 0 {
			n = -n
		}
	} else {
		n = max(-rel, 0)
	}
	maxExact := numBuckets / 2
	if n < maxExact {
		return bucket + n
	}
	r := float32(math.Log(float64(float32(n) / float32(maxExact))))
	r /= float32(math.Log(float64(maxDistance) / float64(maxExact)))
	r *= float32(numBuckets - maxExact)
	return bucket + min(maxExact+int(r), numBuckets-1)
}

// bucketTable maps rel+maxDistance (rel clipped to ±maxDistance) to the
// bucket. Beyond maxDistance every position lands in the last bucket, so
// the clipped lookup equals HF's formula for all distances; a table keeps
// the graph's buckets bit-identical to the reference instead of depending
// on the runtime's float log.
func bucketTable(bidirectional bool, numBuckets, maxDistance int) []int64 {
	t := make([]int64, 2*maxDistance+1)
	for i := range t {
		t[i] = int64(relativeBucket(i-maxDistance, bidirectional, numBuckets, maxDistance))
	}
	return t
}

func (g *gb) rmsNorm(x, w string) string {
	v := g.op("ReduceMean", []onnx.Attribute{onnx.AttrInts("axes", -1), onnx.AttrInt("keepdims", 1)},
		g.do("Mul", x, x))
	inv := g.do("Reciprocal", g.do("Sqrt", g.do("Add", v, g.ScalarF32(t5LayerNormEps))))
	return g.do("Mul", g.do("Mul", x, inv), g.w(w))
}

// positionBias is [1, nh, Q, K] for query positions qpos and key positions
// kpos (1-D int64).
func (g *gb) positionBias(qpos, kpos, table, weight string, maxDistance int64) (bias, rel string) {
	rel = g.do("Sub", g.do("Unsqueeze", kpos, g.ConstI64(0)), g.do("Unsqueeze", qpos, g.ConstI64(1)))
	idx := g.do("Add", g.do("Clip", rel, g.ScalarI64(-maxDistance), g.ScalarI64(maxDistance)), g.ScalarI64(maxDistance))
	bucket := g.do("Gather", table, idx)
	vals := g.do("Gather", g.w(weight), bucket) // [Q, K, nh]
	return g.do("Unsqueeze", g.op("Transpose", []onnx.Attribute{onnx.AttrInts("perm", 2, 0, 1)}, vals), g.ConstI64(0)), rel
}

func (g *gb) dim(x string, axis int64) string {
	return g.op("Gather", []onnx.Attribute{onnx.AttrInt("axis", 0)}, g.do("Shape", x), g.ScalarI64(axis))
}

func (g *gb) transposeKey(k string) string {
	return g.op("Transpose", []onnx.Attribute{onnx.AttrInts("perm", 0, 1, 3, 2)}, k)
}

// attend is unscaled attention of q [B,nh,Q,dh] over k, v [B,nh,K,dh].
func (g *gb) attend(q, k, v, bias string, width int) string {
	scores := g.do("Add", g.do("MatMul", q, g.transposeKey(k)), bias)
	return g.merge(g.do("MatMul", g.softmax(scores), v), width)
}

func (g *gb) gatedGelu(x, prefix string) string {
	h0 := g.matmul(x, prefix+".DenseReluDense.wi_0.weight")
	// gelu_new: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
	cube := g.do("Mul", g.do("Mul", h0, h0), h0)
	in := g.do("Mul", g.do("Add", h0, g.do("Mul", cube, g.ScalarF32(0.044715))), g.ScalarF32(float32(math.Sqrt(2/math.Pi))))
	act := g.do("Mul", g.do("Mul", h0, g.ScalarF32(0.5)), g.do("Add", g.do("Tanh", in), g.ScalarF32(1)))
	h := g.do("Mul", act, g.matmul(x, prefix+".DenseReluDense.wi_1.weight"))
	return g.matmul(h, prefix+".DenseReluDense.wo.weight")
}

func (m *t5Model) inner() int { return m.shape.Heads * m.shape.HeadDim }

func (m *t5Model) encoderModel() *onnx.Model {
	g := &gb{Builder: onnx.NewBuilder("main_graph"), ps: m.ps}
	s := m.shape
	b, sq := onnx.P("batch_size"), onnx.P("encoder_sequence_length")
	ids := g.Input("input_ids", onnx.Int64, b, sq)
	mask := g.Input("attention_mask", onnx.Int64, b, sq)
	x := g.do("Gather", g.w("shared.weight"), ids)
	pos := g.do("Range", g.ScalarI64(0), g.dim(ids, 1), g.ScalarI64(1))
	table := g.Initializer(m.bucketTensor(true))
	pb, _ := g.positionBias(pos, pos, table, encRelBias, int64(s.MaxDistance))
	bias := g.do("Add", pb, g.paddingMask(mask))
	for i := 0; i < s.Layers; i++ {
		at := encName(i, "0.SelfAttention")
		n := g.rmsNorm(x, encName(i, "0.layer_norm.weight"))
		q := g.heads(g.matmul(n, at+".q.weight"), s.Heads, s.HeadDim, false)
		k := g.heads(g.matmul(n, at+".k.weight"), s.Heads, s.HeadDim, false)
		v := g.heads(g.matmul(n, at+".v.weight"), s.Heads, s.HeadDim, false)
		x = g.do("Add", x, g.matmul(g.attend(q, k, v, bias, m.inner()), at+".o.weight"))
		x = g.do("Add", x, g.gatedGelu(g.rmsNorm(x, encName(i, "1.layer_norm.weight")), encName(i, "1")))
	}
	x = g.rmsNorm(x, "encoder.final_layer_norm.weight")
	g.Output(x, "last_hidden_state", onnx.Float, b, sq, onnx.D(int64(s.Hidden)))
	return onnx.NewModel(g.G)
}

// decoderVariant selects one of Optimum's decoder interfaces.
type decoderVariant int

const (
	decNoPast   decoderVariant = iota // decoder_model.onnx
	decWithPast                       // decoder_with_past_model.onnx
	decMerged                         // decoder_model_merged.onnx
)

func pastName(kind string, i int, part, kv string) string {
	return fmt.Sprintf("%s.%d.%s.%s", kind, i, part, kv)
}

// decoderBody emits the decoder into g. Values named by inputs come from
// the enclosing graph. It returns the output values in Optimum's order:
// logits, then per layer decoder key/value and (if withEncoderPresent)
// encoder key/value.
func (m *t5Model) decoderBody(g *gb, withPast, withEncoderPresent bool) []string {
	s := m.shape
	ids, encMask, encH := "input_ids", "encoder_attention_mask", "encoder_hidden_states"
	x := g.do("Gather", g.w("shared.weight"), ids)
	steps := g.dim(ids, 1)
	past := g.ScalarI64(0)
	if withPast {
		// The new tokens' positions start at the cached length, read from
		// the past keys' shape, so relative positions stay right.
		past = g.dim(pastName("past_key_values", 0, "decoder", "key"), 2)
	}
	total := g.do("Add", past, steps)
	qpos := g.do("Range", past, total, g.ScalarI64(1))
	kpos := g.do("Range", g.ScalarI64(0), total, g.ScalarI64(1))
	table := g.Initializer(m.bucketTensor(false))
	pb, rel := g.positionBias(qpos, kpos, table, decRelBias, int64(s.MaxDistance))
	future := g.op("Cast", []onnx.Attribute{onnx.AttrInt("to", int64(onnx.Float))}, g.do("Greater", rel, g.ScalarI64(0)))
	selfBias := g.do("Add", pb, g.do("Mul", future, g.ScalarF32(maskValue)))
	crossBias := g.paddingMask(encMask)

	outs := []string{""}
	var presents []string
	for i := 0; i < s.DecoderLayers; i++ {
		at := decName(i, "0.SelfAttention")
		n := g.rmsNorm(x, decName(i, "0.layer_norm.weight"))
		q := g.heads(g.matmul(n, at+".q.weight"), s.Heads, s.HeadDim, false)
		k := g.heads(g.matmul(n, at+".k.weight"), s.Heads, s.HeadDim, false)
		v := g.heads(g.matmul(n, at+".v.weight"), s.Heads, s.HeadDim, false)
		if withPast {
			axis := []onnx.Attribute{onnx.AttrInt("axis", 2)}
			k = g.op("Concat", axis, pastName("past_key_values", i, "decoder", "key"), k)
			v = g.op("Concat", axis, pastName("past_key_values", i, "decoder", "value"), v)
		}
		presents = append(presents, k, v)
		x = g.do("Add", x, g.matmul(g.attend(q, k, v, selfBias, m.inner()), at+".o.weight"))

		ct := decName(i, "1.EncDecAttention")
		n = g.rmsNorm(x, decName(i, "1.layer_norm.weight"))
		q = g.heads(g.matmul(n, ct+".q.weight"), s.Heads, s.HeadDim, false)
		var ck, cv string
		if withPast {
			ck, cv = pastName("past_key_values", i, "encoder", "key"), pastName("past_key_values", i, "encoder", "value")
		} else {
			ck = g.heads(g.matmul(encH, ct+".k.weight"), s.Heads, s.HeadDim, false)
			cv = g.heads(g.matmul(encH, ct+".v.weight"), s.Heads, s.HeadDim, false)
		}
		if withEncoderPresent {
			if withPast {
				ck, cv = g.do("Identity", ck), g.do("Identity", cv)
			}
			presents = append(presents, ck, cv)
		}
		x = g.do("Add", x, g.matmul(g.attend(q, ck, cv, crossBias, m.inner()), ct+".o.weight"))
		x = g.do("Add", x, g.gatedGelu(g.rmsNorm(x, decName(i, "2.layer_norm.weight")), decName(i, "2")))
	}
	x = g.rmsNorm(x, "decoder.final_layer_norm.weight")
	outs[0] = g.matmul(x, "lm_head.weight")
	return append(outs, presents...)
}

type outSpec struct {
	name  string
	shape []onnx.Dim
}

func (m *t5Model) decoderOutputs(v decoderVariant) []outSpec {
	s := m.shape
	b, nh, dh := onnx.P("batch_size"), onnx.D(int64(s.Heads)), onnx.D(int64(s.HeadDim))
	seq := onnx.P("decoder_sequence_length")
	selfLen, encLen := onnx.P("decoder_sequence_length"), onnx.P("encoder_sequence_length")
	switch v {
	case decWithPast:
		seq, selfLen = onnx.D(1), onnx.P("past_decoder_sequence_length + 1")
	case decMerged:
		selfLen, encLen = onnx.P("past_decoder_sequence_length + 1"), onnx.P("encoder_sequence_length_out")
	}
	outs := []outSpec{{"logits", []onnx.Dim{b, seq, onnx.D(int64(m.vocab))}}}
	for i := 0; i < s.DecoderLayers; i++ {
		for _, kv := range []string{"key", "value"} {
			outs = append(outs, outSpec{pastName("present", i, "decoder", kv), []onnx.Dim{b, nh, selfLen, dh}})
		}
		if v != decWithPast {
			for _, kv := range []string{"key", "value"} {
				outs = append(outs, outSpec{pastName("present", i, "encoder", kv), []onnx.Dim{b, nh, encLen, dh}})
			}
		}
	}
	return outs
}

func (m *t5Model) decoderModel(v decoderVariant) *onnx.Model {
	s := m.shape
	g := &gb{Builder: onnx.NewBuilder("main_graph"), ps: m.ps}
	b, nh, dh := onnx.P("batch_size"), onnx.D(int64(s.Heads)), onnx.D(int64(s.HeadDim))
	enc := onnx.P("encoder_sequence_length")
	g.Input("encoder_attention_mask", onnx.Int64, b, enc)
	if v == decWithPast {
		g.Input("input_ids", onnx.Int64, b, onnx.D(1))
	} else {
		g.Input("input_ids", onnx.Int64, b, onnx.P("decoder_sequence_length"))
		g.Input("encoder_hidden_states", onnx.Float, b, enc, onnx.D(int64(s.Hidden)))
	}
	if v != decNoPast {
		encOut := onnx.P("encoder_sequence_length_out")
		for i := 0; i < s.DecoderLayers; i++ {
			for _, kv := range []string{"key", "value"} {
				g.Input(pastName("past_key_values", i, "decoder", kv), onnx.Float, b, nh, onnx.P("past_decoder_sequence_length"), dh)
			}
			for _, kv := range []string{"key", "value"} {
				g.Input(pastName("past_key_values", i, "encoder", kv), onnx.Float, b, nh, encOut, dh)
			}
		}
	}
	specs := m.decoderOutputs(v)
	switch v {
	case decNoPast, decWithPast:
		vals := m.decoderBody(g, v == decWithPast, v == decNoPast)
		for i, o := range specs {
			g.Output(vals[i], o.name, onnx.Float, o.shape...)
		}
	case decMerged:
		cond := g.Input("use_cache_branch", onnx.Bool, onnx.D(1))
		branch := func(name string, withPast bool) *onnx.Graph {
			sub := &gb{Builder: g.Sub(name, name+"/"), ps: m.ps}
			vals := m.decoderBody(sub, withPast, true)
			for i, o := range specs {
				unknown := make([]onnx.Dim, len(o.shape))
				sub.Output(vals[i], name+"/"+o.name, onnx.Float, unknown...)
			}
			return sub.G
		}
		names := make([]string, len(specs))
		for i, o := range specs {
			names[i] = o.name
		}
		g.G.Nodes = append(g.G.Nodes, &onnx.Node{
			Name: "optimum::if", OpType: "If", Inputs: []string{cond}, Outputs: names,
			Attrs: []onnx.Attribute{
				onnx.AttrGraph("then_branch", branch("with_past", true)),
				onnx.AttrGraph("else_branch", branch("no_past", false)),
			},
		})
		for _, o := range specs {
			g.G.Outputs = append(g.G.Outputs, onnx.ValueInfo{Name: o.name, Type: onnx.Float, Shape: o.shape})
		}
	}
	return onnx.NewModel(g.G)
}

func (m *t5Model) config() map[string]any {
	s := m.shape
	return map[string]any{
		"_name_or_path":                   "xqg/" + s.Name + "-mt5",
		"architectures":                   []string{"MT5ForConditionalGeneration"},
		"model_type":                      "mt5",
		"d_model":                         s.Hidden,
		"d_kv":                            s.HeadDim,
		"d_ff":                            s.Intermediate,
		"num_layers":                      s.Layers,
		"num_decoder_layers":              s.DecoderLayers,
		"num_heads":                       s.Heads,
		"relative_attention_num_buckets":  s.Buckets,
		"relative_attention_max_distance": s.MaxDistance,
		"vocab_size":                      m.vocab,
		"decoder_start_token_id":          T5PadID,
		"eos_token_id":                    T5EOSID,
		"pad_token_id":                    T5PadID,
		"feed_forward_proj":               "gated-gelu",
		"dense_act_fn":                    "gelu_new",
		"is_gated_act":                    true,
		"tie_word_embeddings":             false,
		"layer_norm_epsilon":              t5LayerNormEps,
		"dropout_rate":                    0.1,
		"initializer_factor":              1.0,
		"is_encoder_decoder":              true,
		"use_cache":                       true,
		"tokenizer_class":                 "T5Tokenizer",
		"torch_dtype":                     "float32",
		"transformers_version":            "4.44.2",
	}
}

func (m *t5Model) generationConfig() map[string]any {
	return map[string]any{
		"_from_model_config":     true,
		"decoder_start_token_id": T5PadID,
		"eos_token_id":           T5EOSID,
		"pad_token_id":           T5PadID,
		"transformers_version":   "4.44.2",
	}
}

// Generation shaping for tiny models. Random weights alone make greedy
// decoding loop on one token and never emit EOS, which would leave the
// generator's stopping logic untested. Three reserved residual dimensions
// give the decoder a sense of how far it has decoded:
//
//   - dimConst is 1 in every token embedding;
//   - dimStart is set only in the embedding of the decoder start token
//     (<pad>), which sits at position 0 of every decoder input;
//   - decoder layer 0, head 0 attends uniformly (zero query weights, zero
//     position bias) and copies dimStart into dimAge, so dimAge ≈ c/(t+1)
//     at step t.
//
// No other weight writes into the reserved dimensions, and the lm_head
// column of EOS reads only them, so EOS's logit rises as t grows: EOS is
// unlikely at first and likely after roughly eosStep tokens, whatever the
// passage. The other logits still depend on the passage and the prefix.
const (
	dimConst = 0
	dimStart = 1
	dimAge   = 2
)

var (
	genStartValue = float32(3)
	genAgeGain    = float32(4)
	genEOSConst   = float32(14)
	genEOSAge     = float32(-9)
)

func (m *t5Model) shapeGeneration(vocab []unigramPiece) {
	s, ps := m.shape, m.ps
	d, inner := s.Hidden, m.inner()
	if d < 8 {
		return
	}
	mat := func(name string) []float32 {
		p := ps.params[name]
		p.data = p.values(ps.seed)
		return p.data
	}
	reserved := []int{dimConst, dimStart, dimAge}
	// Writers into the residual stream: zero their reserved output columns.
	zeroCols := func(name string, rows int) {
		w := mat(name)
		for r := 0; r < rows; r++ {
			for _, c := range reserved {
				w[r*d+c] = 0
			}
		}
	}
	for i := 0; i < s.DecoderLayers; i++ {
		zeroCols(decName(i, "0.SelfAttention.o.weight"), inner)
		zeroCols(decName(i, "1.EncDecAttention.o.weight"), inner)
		zeroCols(decName(i, "2.DenseReluDense.wo.weight"), s.Intermediate)
	}
	emb := mat("shared.weight")
	for tok := 0; tok < m.vocab; tok++ {
		emb[tok*d+dimConst] = 1
		emb[tok*d+dimStart] = 0
		emb[tok*d+dimAge] = 0
	}
	emb[T5PadID*d+dimStart] = genStartValue

	// Layer 0, head 0 (columns 0..HeadDim-1 of q/k/v, rows of o).
	at := decName(0, "0.SelfAttention")
	q, v, o := mat(at+".q.weight"), mat(at+".v.weight"), mat(at+".o.weight")
	for r := 0; r < d; r++ {
		for c := 0; c < s.HeadDim; c++ {
			q[r*inner+c] = 0
			v[r*inner+c] = 0
		}
	}
	v[dimStart*inner+0] = 1
	for c := 0; c < d; c++ {
		o[0*d+c] = 0
	}
	o[0*d+dimAge] = genAgeGain
	rb := mat(decRelBias)
	for b := 0; b < s.Buckets; b++ {
		rb[b*s.Heads+0] = 0
	}

	lm := mat("lm_head.weight")
	for _, r := range reserved {
		for tok := 0; tok < m.vocab; tok++ {
			lm[r*m.vocab+tok] = 0
		}
	}
	for r := 0; r < d; r++ {
		lm[r*m.vocab+T5EOSID] = 0
	}
	lm[dimConst*m.vocab+T5EOSID] = genEOSConst
	lm[dimAge*m.vocab+T5EOSID] = genEOSAge
}
