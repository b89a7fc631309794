package tinymodels

import (
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestRealShapesRunInORT loads benchmark-sized folders written by
// `xqg models tiny --shape NAME --out $XQG_REAL_MODELS/NAME` and runs one
// small batch through each; it is skipped unless XQG_REAL_MODELS is set
// (the folders are GBs, written on demand, never committed).
func TestRealShapesRunInORT(t *testing.T) {
	root := os.Getenv("XQG_REAL_MODELS")
	if root == "" {
		t.Skip("XQG_REAL_MODELS not set")
	}
	needORT(t)
	for name, shapes := range Shapes {
		s := shapes[0]
		if name == "tiny" {
			continue
		}
		dir := filepath.Join(root, name)
		if _, err := os.Stat(dir); err != nil {
			t.Logf("%s: not written, skipped", name)
			continue
		}
		t.Run(name, func(t *testing.T) {
			r, err := Check(dir)
			if err != nil || r.Err() != nil {
				t.Fatalf("check: %v %v", err, r.Err())
			}
			ids := [][]int64{{2, 40, 41, 300, 7, 150, 9, 3}}
			mask := [][]int64{{1, 1, 1, 1, 1, 1, 1, 1}}
			start := time.Now()
			var out []float32
			if s.IsSeq2Seq() {
				enc := openSession(t, filepath.Join(dir, EncoderFile), []string{"input_ids", "attention_mask"}, []string{"last_hidden_state"})
				h := enc.run(t, i64Tensor(t, ids), i64Tensor(t, mask))["last_hidden_state"]
				dec := openSession(t, filepath.Join(dir, DecoderFile),
					[]string{"encoder_attention_mask", "input_ids", "encoder_hidden_states"}, []string{"logits"})
				out = floats(dec.run(t, i64Tensor(t, mask), i64Tensor(t, [][]int64{{0}}), h)["logits"])
				if len(out) != s.Vocab {
					t.Fatalf("logits: %d values, want %d", len(out), s.Vocab)
				}
			} else {
				s2 := openSession(t, filepath.Join(dir, "model.onnx"),
					[]string{"input_ids", "attention_mask", "token_type_ids"}, []string{"last_hidden_state"})
				tt := [][]int64{make([]int64, 8)}
				out = floats(s2.run(t, i64Tensor(t, ids), i64Tensor(t, mask), i64Tensor(t, tt))["last_hidden_state"])
				if len(out) != 8*s.Hidden {
					t.Fatalf("%d values, want %d", len(out), 8*s.Hidden)
				}
			}
			for _, x := range out {
				if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
					t.Fatalf("non-finite output")
				}
			}
			t.Logf("%s: loaded and ran in %v", name, time.Since(start).Round(time.Millisecond))
		})
	}
}
