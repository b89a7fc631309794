package tinymodels

import (
	"math"
)

// A plain float64 forward pass of the written architectures, from the same
// weights, to check the ONNX graphs numerically.

type mat struct {
	r, c int
	d    []float64
}

func newMat(r, c int) *mat { return &mat{r, c, make([]float64, r*c)} }

func (m *mat) at(i, j int) float64 { return m.d[i*m.c+j] }

func (m *mat) row(i int) []float64 { return m.d[i*m.c : (i+1)*m.c] }

func weight(ps *paramSet, name string, r, c int) *mat {
	v := ps.values(name)
	if len(v) != r*c {
		panic(name)
	}
	m := newMat(r, c)
	for i, x := range v {
		m.d[i] = float64(x)
	}
	return m
}

func vec(ps *paramSet, name string) []float64 {
	v := ps.values(name)
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

func matmul(a, b *mat) *mat {
	if a.c != b.r {
		panic("matmul shapes")
	}
	out := newMat(a.r, b.c)
	for i := 0; i < a.r; i++ {
		for k := 0; k < a.c; k++ {
			x := a.at(i, k)
			if x == 0 {
				continue
			}
			br := b.row(k)
			or := out.row(i)
			for j := range or {
				or[j] += x * br[j]
			}
		}
	}
	return out
}

func addBias(m *mat, b []float64) *mat {
	for i := 0; i < m.r; i++ {
		r := m.row(i)
		for j := range r {
			r[j] += b[j]
		}
	}
	return m
}

func addMat(a, b *mat) *mat {
	out := newMat(a.r, a.c)
	for i := range a.d {
		out.d[i] = a.d[i] + b.d[i]
	}
	return out
}

func layerNorm(m *mat, g, b []float64, eps float64) *mat {
	out := newMat(m.r, m.c)
	for i := 0; i < m.r; i++ {
		r := m.row(i)
		mean := 0.0
		for _, x := range r {
			mean += x
		}
		mean /= float64(len(r))
		v := 0.0
		for _, x := range r {
			v += (x - mean) * (x - mean)
		}
		v /= float64(len(r))
		inv := 1 / math.Sqrt(v+eps)
		o := out.row(i)
		for j, x := range r {
			o[j] = (x-mean)*inv*g[j] + b[j]
		}
	}
	return out
}

func rmsNorm(m *mat, g []float64, eps float64) *mat {
	out := newMat(m.r, m.c)
	for i := 0; i < m.r; i++ {
		r := m.row(i)
		v := 0.0
		for _, x := range r {
			v += x * x
		}
		inv := 1 / math.Sqrt(v/float64(len(r))+eps)
		o := out.row(i)
		for j, x := range r {
			o[j] = x * inv * g[j]
		}
	}
	return out
}

func softmaxRow(r []float64) {
	mx := math.Inf(-1)
	for _, x := range r {
		mx = math.Max(mx, x)
	}
	s := 0.0
	for j, x := range r {
		r[j] = math.Exp(x - mx)
		s += r[j]
	}
	for j := range r {
		r[j] /= s
	}
}

// attention: q [Sq, nh·dh], k/v [Sk, nh·dh]; bias(h, i, j) is added to
// scores (nil = none).
func attention(q, k, v *mat, nh, dh int, scale float64, bias func(h, i, j int) float64) *mat {
	out := newMat(q.r, nh*dh)
	scores := make([]float64, k.r)
	for h := 0; h < nh; h++ {
		for i := 0; i < q.r; i++ {
			qi := q.row(i)[h*dh : (h+1)*dh]
			for j := 0; j < k.r; j++ {
				kj := k.row(j)[h*dh : (h+1)*dh]
				s := 0.0
				for d := range qi {
					s += qi[d] * kj[d]
				}
				s *= scale
				if bias != nil {
					s += bias(h, i, j)
				}
				scores[j] = s
			}
			softmaxRow(scores)
			o := out.row(i)[h*dh : (h+1)*dh]
			for j := 0; j < k.r; j++ {
				vj := v.row(j)[h*dh : (h+1)*dh]
				for d := range o {
					o[d] += scores[j] * vj[d]
				}
			}
		}
	}
	return out
}

func gelu(x float64) float64 { return 0.5 * x * (1 + math.Erf(x/math.Sqrt2)) }

func geluTanh(x float64) float64 {
	return 0.5 * x * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(x+0.044715*x*x*x)))
}

func apply(m *mat, f func(float64) float64) *mat {
	out := newMat(m.r, m.c)
	for i, x := range m.d {
		out.d[i] = f(x)
	}
	return out
}

func gather(table *mat, ids []int64) *mat {
	out := newMat(len(ids), table.c)
	for i, id := range ids {
		copy(out.row(i), table.row(int(id)))
	}
	return out
}

// refBert runs one sequence (no batching: padding is handled by the mask).
func refBert(m *bertModel, ids, mask, tt []int64) *mat {
	ps, h, nh := m.ps, m.shape.Hidden, m.shape.Heads
	dh := h / nh
	pos := make([]int64, len(ids))
	for i := range pos {
		pos[i] = int64(i) + m.positionOffset()
	}
	x := addMat(addMat(
		gather(weight(ps, "embeddings.word_embeddings.weight", m.vocab, h), ids),
		gather(weight(ps, "embeddings.position_embeddings.weight", m.shape.MaxPositions, h), pos)),
		gather(weight(ps, "embeddings.token_type_embeddings.weight", m.shape.TypeVocab, h), tt))
	x = layerNorm(x, vec(ps, "embeddings.LayerNorm.weight"), vec(ps, "embeddings.LayerNorm.bias"), bertLayerNormEps)
	bias := func(_, _, j int) float64 {
		if mask[j] == 0 {
			return maskValue
		}
		return 0
	}
	f := m.shape.Intermediate
	for i := 0; i < m.shape.Layers; i++ {
		n := func(s string) string { return bertName(i, s) }
		lin := func(in *mat, w string, r, c int) *mat {
			return addBias(matmul(in, weight(ps, n(w+".weight"), r, c)), vec(ps, n(w+".bias")))
		}
		q := lin(x, "attention.self.query", h, h)
		k := lin(x, "attention.self.key", h, h)
		v := lin(x, "attention.self.value", h, h)
		ctx := attention(q, k, v, nh, dh, 1/math.Sqrt(float64(dh)), bias)
		a := lin(ctx, "attention.output.dense", h, h)
		x = layerNorm(addMat(a, x), vec(ps, n("attention.output.LayerNorm.weight")), vec(ps, n("attention.output.LayerNorm.bias")), bertLayerNormEps)
		inter := apply(lin(x, "intermediate.dense", h, f), gelu)
		o := lin(inter, "output.dense", f, h)
		x = layerNorm(addMat(o, x), vec(ps, n("output.LayerNorm.weight")), vec(ps, n("output.LayerNorm.bias")), bertLayerNormEps)
	}
	return x
}

func (m *t5Model) refLinear(x *mat, name string, out int) *mat {
	return matmul(x, weight(m.ps, name, x.c, out))
}

func (m *t5Model) relBias(name string, bidirectional bool) func(h, i, j int) float64 {
	s := m.shape
	w := weight(m.ps, name, s.Buckets, s.Heads)
	return func(h, qpos, kpos int) float64 {
		return w.at(relativeBucket(kpos-qpos, bidirectional, s.Buckets, s.MaxDistance), h)
	}
}

func (m *t5Model) refFFN(x *mat, prefix string) *mat {
	s := m.shape
	h0 := apply(m.refLinear(x, prefix+".DenseReluDense.wi_0.weight", s.Intermediate), geluTanh)
	h1 := m.refLinear(x, prefix+".DenseReluDense.wi_1.weight", s.Intermediate)
	for i := range h0.d {
		h0.d[i] *= h1.d[i]
	}
	return m.refLinear(h0, prefix+".DenseReluDense.wo.weight", s.Hidden)
}

func (m *t5Model) refEncoder(ids, mask []int64) *mat {
	s, ps := m.shape, m.ps
	inner := m.inner()
	x := gather(weight(ps, "shared.weight", m.vocab, s.Hidden), ids)
	rb := m.relBias(encRelBias, true)
	bias := func(h, i, j int) float64 {
		b := rb(h, i, j)
		if mask[j] == 0 {
			b += maskValue
		}
		return b
	}
	for i := 0; i < s.Layers; i++ {
		at := encName(i, "0.SelfAttention")
		n := rmsNorm(x, vec(ps, encName(i, "0.layer_norm.weight")), t5LayerNormEps)
		ctx := attention(m.refLinear(n, at+".q.weight", inner), m.refLinear(n, at+".k.weight", inner),
			m.refLinear(n, at+".v.weight", inner), s.Heads, s.HeadDim, 1, bias)
		x = addMat(x, m.refLinear(ctx, at+".o.weight", s.Hidden))
		x = addMat(x, m.refFFN(rmsNorm(x, vec(ps, encName(i, "1.layer_norm.weight")), t5LayerNormEps), encName(i, "1")))
	}
	return rmsNorm(x, vec(ps, "encoder.final_layer_norm.weight"), t5LayerNormEps)
}

// refDecoder returns the logits [T, vocab] of a full (uncached) pass.
func (m *t5Model) refDecoder(enc *mat, encMask, ids []int64) *mat {
	s, ps := m.shape, m.ps
	inner := m.inner()
	x := gather(weight(ps, "shared.weight", m.vocab, s.Hidden), ids)
	rb := m.relBias(decRelBias, false)
	selfBias := func(h, i, j int) float64 {
		b := rb(h, i, j)
		if j > i {
			b += maskValue
		}
		return b
	}
	crossBias := func(_, _, j int) float64 {
		if encMask[j] == 0 {
			return maskValue
		}
		return 0
	}
	for i := 0; i < s.DecoderLayers; i++ {
		at := decName(i, "0.SelfAttention")
		n := rmsNorm(x, vec(ps, decName(i, "0.layer_norm.weight")), t5LayerNormEps)
		ctx := attention(m.refLinear(n, at+".q.weight", inner), m.refLinear(n, at+".k.weight", inner),
			m.refLinear(n, at+".v.weight", inner), s.Heads, s.HeadDim, 1, selfBias)
		x = addMat(x, m.refLinear(ctx, at+".o.weight", s.Hidden))
		ct := decName(i, "1.EncDecAttention")
		n = rmsNorm(x, vec(ps, decName(i, "1.layer_norm.weight")), t5LayerNormEps)
		ctx = attention(m.refLinear(n, ct+".q.weight", inner), m.refLinear(enc, ct+".k.weight", inner),
			m.refLinear(enc, ct+".v.weight", inner), s.Heads, s.HeadDim, 1, crossBias)
		x = addMat(x, m.refLinear(ctx, ct+".o.weight", s.Hidden))
		x = addMat(x, m.refFFN(rmsNorm(x, vec(ps, decName(i, "2.layer_norm.weight")), t5LayerNormEps), decName(i, "2")))
	}
	x = rmsNorm(x, vec(ps, "decoder.final_layer_norm.weight"), t5LayerNormEps)
	return m.refLinear(x, "lm_head.weight", m.vocab)
}
