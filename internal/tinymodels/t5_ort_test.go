package tinymodels

import (
	"fmt"
	"math"
	"path/filepath"
	"testing"

	ort "github.com/yalue/onnxruntime_go"
)

func writeTinySeq2Seq(t *testing.T) (string, *t5Model) {
	t.Helper()
	dir := t.TempDir()
	if err := WriteSeq2Seq(dir, TinySeq2Seq); err != nil {
		t.Fatal(err)
	}
	vocab := unigramVocab()
	m := newT5(TinySeq2Seq, len(vocab))
	m.shapeGeneration(vocab)
	return dir, m
}

func decoderInputs(m *t5Model, past bool, encoderPast bool) []string {
	names := []string{"encoder_attention_mask", "input_ids"}
	if !past || encoderPast {
		names = append(names, "encoder_hidden_states")
	}
	if past {
		for i := 0; i < m.shape.DecoderLayers; i++ {
			for _, part := range []string{"decoder", "encoder"} {
				for _, kv := range []string{"key", "value"} {
					names = append(names, pastName("past_key_values", i, part, kv))
				}
			}
		}
	}
	return names
}

func decoderOutputNames(m *t5Model, v decoderVariant) []string {
	var names []string
	for _, o := range m.decoderOutputs(v) {
		names = append(names, o.name)
	}
	return names
}

func TestTinyT5MatchesReference(t *testing.T) {
	needORT(t)
	dir, m := writeTinySeq2Seq(t)
	enc := openSession(t, filepath.Join(dir, EncoderFile), []string{"input_ids", "attention_mask"}, []string{"last_hidden_state"})
	dec := openSession(t, filepath.Join(dir, DecoderFile), decoderInputs(m, false, false), decoderOutputNames(m, decNoPast))
	ids := [][]int64{{40, 41, 300, 7, 150, 1}, {40, 41, 1, 0, 0, 0}}
	mask := [][]int64{{1, 1, 1, 1, 1, 1}, {1, 1, 1, 0, 0, 0}}
	encOut := enc.run(t, i64Tensor(t, ids), i64Tensor(t, mask))["last_hidden_state"]
	d := m.shape.Hidden
	got := floats(encOut)
	refs := make([]*mat, len(ids))
	worst := 0.0
	for b := range ids {
		refs[b] = m.refEncoder(ids[b], mask[b])
		for i := range ids[b] {
			if mask[b][i] == 0 {
				continue
			}
			off := (b*len(ids[b]) + i) * d
			worst = math.Max(worst, maxDiff(got[off:off+d], refs[b].row(i)))
		}
	}
	t.Logf("encoder: max |ORT - reference| = %.3g", worst)
	if worst > 1e-5 {
		t.Errorf("encoder differs from the reference by %g", worst)
	}

	decIDs := [][]int64{{0, 55, 300, 12}, {0, 9, 9, 400}}
	outs := dec.run(t, i64Tensor(t, mask), i64Tensor(t, decIDs), encOut)
	logits := floats(outs["logits"])
	if sh := outs["logits"].(*ort.Tensor[float32]).GetShape(); fmt.Sprint(sh) != fmt.Sprint([]int64{2, 4, int64(m.vocab)}) {
		t.Fatalf("logits shape %v", sh)
	}
	worst = 0
	for b := range decIDs {
		ref := m.refDecoder(refs[b], mask[b], decIDs[b])
		for i := range decIDs[b] {
			off := (b*len(decIDs[b]) + i) * m.vocab
			worst = math.Max(worst, maxDiff(logits[off:off+m.vocab], ref.row(i)))
		}
	}
	t.Logf("decoder: max |ORT - reference| = %.3g", worst)
	if worst > 1e-4 {
		t.Errorf("decoder logits differ from the reference by %g", worst)
	}
	if sh := outs["present.1.encoder.key"].(*ort.Tensor[float32]).GetShape(); fmt.Sprint(sh) != fmt.Sprint([]int64{2, int64(m.shape.Heads), 6, int64(m.shape.HeadDim)}) {
		t.Errorf("present.1.encoder.key shape %v", sh)
	}
}

func argmaxRows(logits []float32, rows, vocab int) []int64 {
	out := make([]int64, rows)
	for r := 0; r < rows; r++ {
		best := 0
		row := logits[r*vocab : (r+1)*vocab]
		for j, x := range row {
			if x > row[best] {
				best = j
			}
		}
		out[r] = int64(best)
	}
	return out
}

// lastLogits returns the logits of the last position of every row.
func lastLogits(v ort.Value, vocab int) ([]float32, int) {
	sh := v.(*ort.Tensor[float32]).GetShape()
	b, steps := int(sh[0]), int(sh[1])
	all := floats(v)
	out := make([]float32, 0, b*vocab)
	for r := 0; r < b; r++ {
		off := (r*steps + steps - 1) * vocab
		out = append(out, all[off:off+vocab]...)
	}
	return out, b
}

func boolTensor(t *testing.T, v bool) *ort.Tensor[bool] {
	x, err := ort.NewTensor(ort.NewShape(1), []bool{v})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Destroy() })
	return x
}

func zeros(t *testing.T, shape ...int64) *ort.Tensor[float32] {
	x, err := ort.NewEmptyTensor[float32](ort.NewShape(shape...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Destroy() })
	return x
}

// TestTinyT5CachedDecodingAgrees decodes greedily three ways: recomputing
// the whole prefix with decoder_model, with decoder_with_past's cache, and
// with the merged decoder; the logits and ids must agree.
func TestTinyT5CachedDecodingAgrees(t *testing.T) {
	needORT(t)
	dir, m := writeTinySeq2Seq(t)
	s := m.shape
	enc := openSession(t, filepath.Join(dir, EncoderFile), []string{"input_ids", "attention_mask"}, []string{"last_hidden_state"})
	full := openSession(t, filepath.Join(dir, DecoderFile), decoderInputs(m, false, false), decoderOutputNames(m, decNoPast))
	past := openSession(t, filepath.Join(dir, DecoderWithPastFile), decoderInputs(m, true, false), decoderOutputNames(m, decWithPast))
	mergedIn := append(decoderInputs(m, true, true), "use_cache_branch")
	merged := openSession(t, filepath.Join(dir, DecoderMergedFile), mergedIn, decoderOutputNames(m, decMerged))

	ids := [][]int64{{40, 41, 300, 7, 150, 1}, {60, 41, 1, 0, 0, 0}}
	mask := [][]int64{{1, 1, 1, 1, 1, 1}, {1, 1, 1, 0, 0, 0}}
	maskT := i64Tensor(t, mask)
	encOut := enc.run(t, i64Tensor(t, ids), maskT)["last_hidden_state"]
	const steps = 8
	B := int64(len(ids))

	// 1: no cache.
	seqs := [][]int64{{T5PadID}, {T5PadID}}
	var refLogits [][]float32
	for step := 0; step < steps; step++ {
		out := full.run(t, maskT, i64Tensor(t, seqs), encOut)
		l, _ := lastLogits(out["logits"], m.vocab)
		refLogits = append(refLogits, l)
		next := argmaxRows(l, int(B), m.vocab)
		for r := range seqs {
			seqs[r] = append(seqs[r], next[r])
		}
	}

	check := func(name string, step int, l []float32) {
		t.Helper()
		if d := maxDiff(l, float64s(refLogits[step])); d > 1e-4 {
			t.Errorf("%s step %d: logits differ from the uncached decoder by %g", name, step, d)
		}
		next := argmaxRows(l, int(B), m.vocab)
		for r := range next {
			if next[r] != seqs[r][step+1] {
				t.Errorf("%s step %d row %d: token %d, uncached decoder chose %d", name, step, r, next[r], seqs[r][step+1])
			}
		}
	}
	column := func(step int) [][]int64 {
		c := make([][]int64, B)
		for r := range c {
			c[r] = []int64{seqs[r][step]}
		}
		return c
	}

	// 2: decoder_model for the first token, then decoder_with_past.
	out := full.run(t, maskT, i64Tensor(t, column(0)), encOut)
	l, _ := lastLogits(out["logits"], m.vocab)
	check("with_past", 0, l)
	cache := out
	for step := 1; step < steps; step++ {
		in := []ort.Value{maskT, i64Tensor(t, column(step))}
		for i := 0; i < s.DecoderLayers; i++ {
			in = append(in, cache[pastName("present", i, "decoder", "key")], cache[pastName("present", i, "decoder", "value")])
			// The cross-attention cache comes from the first step.
			in = append(in, out[pastName("present", i, "encoder", "key")], out[pastName("present", i, "encoder", "value")])
		}
		cache = past.run(t, in...)
		l, _ := lastLogits(cache["logits"], m.vocab)
		check("with_past", step, l)
		if sh := cache["present.0.decoder.key"].(*ort.Tensor[float32]).GetShape(); sh[2] != int64(step+1) {
			t.Fatalf("with_past step %d: present length %d", step, sh[2])
		}
	}

	// 3: merged decoder, use_cache_branch false then true.
	dummy := zeros(t, B, int64(s.Heads), 1, int64(s.HeadDim))
	in := []ort.Value{maskT, i64Tensor(t, column(0)), encOut}
	for i := 0; i < 4*s.DecoderLayers; i++ {
		in = append(in, dummy)
	}
	mc := merged.run(t, append(in, boolTensor(t, false))...)
	l, _ = lastLogits(mc["logits"], m.vocab)
	check("merged", 0, l)
	for step := 1; step < steps; step++ {
		in := []ort.Value{maskT, i64Tensor(t, column(step)), encOut}
		for i := 0; i < s.DecoderLayers; i++ {
			for _, part := range []string{"decoder", "encoder"} {
				for _, kv := range []string{"key", "value"} {
					in = append(in, mc[pastName("present", i, part, kv)])
				}
			}
		}
		mc = merged.run(t, append(in, boolTensor(t, true))...)
		l, _ := lastLogits(mc["logits"], m.vocab)
		check("merged", step, l)
	}
	t.Logf("greedy ids: %v", seqs)
}
