package tinymodels

import (
	"fmt"
	"math"

	"github.com/xqg/xqg/internal/onnx"
)

// maskValue is what HF adds to attention scores of padding positions
// (torch.finfo(float32).min).
const maskValue = -math.MaxFloat32

// gb couples a graph builder with the model's weights.
type gb struct {
	*onnx.Builder
	ps *paramSet
}

func (g *gb) w(name string) string { return g.Initializer(g.ps.tensor(name)) }

func (g *gb) op(op string, attrs []onnx.Attribute, in ...string) string {
	return g.Op(op, in, attrs...)
}

func (g *gb) do(op string, in ...string) string { return g.Op(op, in) }

func (g *gb) matmul(x, w string) string { return g.do("MatMul", x, g.w(w)) }

func (g *gb) linear(x, w, b string) string { return g.do("Add", g.matmul(x, w), g.w(b)) }

// heads reshapes [B,S,nh·dh] to [B,nh,S,dh] (or [B,nh,dh,S] when keyT).
func (g *gb) heads(x string, nh, dh int, keyT bool) string {
	r := g.do("Reshape", x, g.ConstI64(0, 0, int64(nh), int64(dh)))
	perm := []int64{0, 2, 1, 3}
	if keyT {
		perm = []int64{0, 2, 3, 1}
	}
	return g.op("Transpose", []onnx.Attribute{onnx.AttrInts("perm", perm...)}, r)
}

// merge is the inverse of heads: [B,nh,S,dh] → [B,S,nh·dh].
func (g *gb) merge(x string, width int) string {
	t := g.op("Transpose", []onnx.Attribute{onnx.AttrInts("perm", 0, 2, 1, 3)}, x)
	return g.do("Reshape", t, g.ConstI64(0, 0, int64(width)))
}

// paddingMask turns a [B,S] int64 attention mask into the additive
// [B,1,1,S] float mask.
func (g *gb) paddingMask(mask string) string {
	f := g.op("Cast", []onnx.Attribute{onnx.AttrInt("to", int64(onnx.Float))}, mask)
	neg := g.do("Mul", g.do("Sub", g.ScalarF32(1), f), g.ScalarF32(maskValue))
	return g.do("Unsqueeze", neg, g.ConstI64(1, 2))
}

func (g *gb) softmax(x string) string {
	return g.op("Softmax", []onnx.Attribute{onnx.AttrInt("axis", -1)}, x)
}

const bertLayerNormEps = 1e-12

type bertModel struct {
	shape Shape
	vocab int
	ps    *paramSet
}

func bertName(i int, s string) string { return fmt.Sprintf("encoder.layer.%d.%s", i, s) }

func newBert(shape Shape, vocab int) *bertModel {
	m := &bertModel{shape: shape, vocab: vocab, ps: newParamSet(shape.Seed)}
	h, f := int64(shape.Hidden), int64(shape.Intermediate)
	ps := m.ps
	ps.add("embeddings.word_embeddings.weight", 0, 0.5, int64(vocab), h)
	ps.add("embeddings.position_embeddings.weight", 0, 0.2, int64(shape.MaxPositions), h)
	ps.add("embeddings.token_type_embeddings.weight", 0, 0.2, int64(shape.TypeVocab), h)
	ps.add("embeddings.LayerNorm.weight", 1, 0.1, h)
	ps.add("embeddings.LayerNorm.bias", 0, 0.1, h)
	wstd := float32(1 / math.Sqrt(float64(h)))
	for i := 0; i < shape.Layers; i++ {
		for _, n := range []string{"query", "key", "value"} {
			ps.add(bertName(i, "attention.self."+n+".weight"), 0, wstd, h, h)
			ps.add(bertName(i, "attention.self."+n+".bias"), 0, 0.1, h)
		}
		ps.add(bertName(i, "attention.output.dense.weight"), 0, wstd, h, h)
		ps.add(bertName(i, "attention.output.dense.bias"), 0, 0.1, h)
		ps.add(bertName(i, "attention.output.LayerNorm.weight"), 1, 0.1, h)
		ps.add(bertName(i, "attention.output.LayerNorm.bias"), 0, 0.1, h)
		ps.add(bertName(i, "intermediate.dense.weight"), 0, wstd, h, f)
		ps.add(bertName(i, "intermediate.dense.bias"), 0, 0.1, f)
		ps.add(bertName(i, "output.dense.weight"), 0, float32(1/math.Sqrt(float64(f))), f, h)
		ps.add(bertName(i, "output.dense.bias"), 0, 0.1, h)
		ps.add(bertName(i, "output.LayerNorm.weight"), 1, 0.1, h)
		ps.add(bertName(i, "output.LayerNorm.bias"), 0, 0.1, h)
	}
	return m
}

// positionOffset: XLM-R numbers positions from padding_idx+1 = 2.
func (m *bertModel) positionOffset() int64 {
	if m.shape.Family == FamilyXLMR {
		return 2
	}
	return 0
}

func (g *gb) layerNorm(x, prefix string) string {
	return g.op("LayerNormalization", []onnx.Attribute{
		onnx.AttrInt("axis", -1), onnx.AttrFloat("epsilon", bertLayerNormEps),
	}, x, g.w(prefix+".weight"), g.w(prefix+".bias"))
}

func (m *bertModel) model() *onnx.Model {
	g := &gb{Builder: onnx.NewBuilder("main_graph"), ps: m.ps}
	b, s := onnx.P("batch_size"), onnx.P("sequence_length")
	ids := g.Input("input_ids", onnx.Int64, b, s)
	mask := g.Input("attention_mask", onnx.Int64, b, s)
	tt := g.Input("token_type_ids", onnx.Int64, b, s)

	word := g.do("Gather", g.w("embeddings.word_embeddings.weight"), ids)
	seqLen := g.op("Gather", []onnx.Attribute{onnx.AttrInt("axis", 0)}, g.do("Shape", ids), g.ScalarI64(1))
	off := m.positionOffset()
	pos := g.do("Range", g.ScalarI64(off), g.do("Add", seqLen, g.ScalarI64(off)), g.ScalarI64(1))
	posEmb := g.do("Gather", g.w("embeddings.position_embeddings.weight"), pos)
	ttEmb := g.do("Gather", g.w("embeddings.token_type_embeddings.weight"), tt)
	x := g.layerNorm(g.do("Add", g.do("Add", word, posEmb), ttEmb), "embeddings.LayerNorm")

	addMask := g.paddingMask(mask)
	h, nh := m.shape.Hidden, m.shape.Heads
	dh := h / nh
	scale := g.ScalarF32(float32(1 / math.Sqrt(float64(dh))))
	for i := 0; i < m.shape.Layers; i++ {
		at := func(s string) string { return bertName(i, "attention."+s) }
		q := g.heads(g.linear(x, at("self.query.weight"), at("self.query.bias")), nh, dh, false)
		k := g.heads(g.linear(x, at("self.key.weight"), at("self.key.bias")), nh, dh, true)
		v := g.heads(g.linear(x, at("self.value.weight"), at("self.value.bias")), nh, dh, false)
		scores := g.do("Add", g.do("Mul", g.do("MatMul", q, k), scale), addMask)
		ctx := g.merge(g.do("MatMul", g.softmax(scores), v), h)
		attn := g.linear(ctx, at("output.dense.weight"), at("output.dense.bias"))
		x = g.layerNorm(g.do("Add", attn, x), at("output.LayerNorm"))

		inter := g.linear(x, bertName(i, "intermediate.dense.weight"), bertName(i, "intermediate.dense.bias"))
		act := g.do("Mul", g.do("Mul", inter, g.ScalarF32(0.5)),
			g.do("Add", g.do("Erf", g.do("Div", inter, g.ScalarF32(float32(math.Sqrt2)))), g.ScalarF32(1)))
		out := g.linear(act, bertName(i, "output.dense.weight"), bertName(i, "output.dense.bias"))
		x = g.layerNorm(g.do("Add", out, x), bertName(i, "output.LayerNorm"))
	}
	g.Output(x, "last_hidden_state", onnx.Float, b, s, onnx.D(int64(h)))
	return onnx.NewModel(g.G)
}

func (m *bertModel) config() map[string]any {
	s := m.shape
	arch, typ := "BertModel", "bert"
	if s.Family == FamilyXLMR {
		arch, typ = "XLMRobertaModel", "xlm-roberta"
	}
	cfg := map[string]any{
		"_name_or_path":                "xqg/" + s.Name + "-" + typ,
		"architectures":                []string{arch},
		"model_type":                   typ,
		"hidden_size":                  s.Hidden,
		"num_hidden_layers":            s.Layers,
		"num_attention_heads":          s.Heads,
		"intermediate_size":            s.Intermediate,
		"hidden_act":                   "gelu",
		"max_position_embeddings":      s.MaxPositions,
		"vocab_size":                   m.vocab,
		"type_vocab_size":              s.TypeVocab,
		"pad_token_id":                 BertPadID,
		"layer_norm_eps":               bertLayerNormEps,
		"hidden_dropout_prob":          0.1,
		"attention_probs_dropout_prob": 0.1,
		"initializer_range":            0.02,
		"position_embedding_type":      "absolute",
		"torch_dtype":                  "float32",
		"transformers_version":         "4.44.2",
	}
	if s.Family == FamilyXLMR {
		cfg["bos_token_id"] = 0
		cfg["eos_token_id"] = 2
	}
	return cfg
}

// maxLength is the longest input the tokenizer config announces.
func (m *bertModel) maxLength() int {
	return m.shape.MaxPositions - int(m.positionOffset())
}
