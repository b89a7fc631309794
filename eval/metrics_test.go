package eval

import (
	"math"
	"testing"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestRankingMetricsHandComputed(t *testing.T) {
	ranked := []string{"a", "b", "c", "d", "e"}
	rel := map[string]int{"c": 1, "e": 2, "z": 1}
	cases := []struct {
		name string
		got  float64
		want float64
	}{
		{"recall@1", RecallAtK(ranked, rel, 1), 0},
		{"recall@3", RecallAtK(ranked, rel, 3), 1.0 / 3},
		{"recall@5", RecallAtK(ranked, rel, 5), 2.0 / 3},
		{"recall@100", RecallAtK(ranked, rel, 100), 2.0 / 3},
		{"success@2", SuccessAtK(ranked, rel, 2), 0},
		{"success@3", SuccessAtK(ranked, rel, 3), 1},
		{"mrr@10", MRRAtK(ranked, rel, 10), 1.0 / 3},
		{"mrr@2", MRRAtK(ranked, rel, 2), 0},
		// DCG = 1/log2(4) + 2/log2(6); IDCG = 2/log2(2) + 1/log2(3) + 1/log2(4).
		{"ndcg@10", NDCGAtK(ranked, rel, 10), (0.5 + 2/math.Log2(6)) / (2 + 1/math.Log2(3) + 0.5)},
		// At k=3 the ideal list is cut at 3 as well.
		{"ndcg@3", NDCGAtK(ranked, rel, 3), 0.5 / (2 + 1/math.Log2(3) + 0.5)},
		{"ndcg perfect", NDCGAtK([]string{"e", "c", "z"}, rel, 10), 1},
		{"ndcg duplicate counted once", NDCGAtK([]string{"e", "e"}, map[string]int{"e": 1}, 10), 1},
		{"no relevant", NDCGAtK(ranked, map[string]int{}, 10), 0},
		{"recall no relevant", RecallAtK(ranked, nil, 10), 0},
	}
	for _, c := range cases {
		if !near(c.got, c.want, 1e-12) {
			t.Errorf("%s = %.12f, want %.12f", c.name, c.got, c.want)
		}
	}
	if got := NDCGAtK(ranked, rel, 10); !near(got, 0.4068139, 1e-6) {
		t.Errorf("ndcg@10 = %f, want 0.4068139 (by hand)", got)
	}
}

func TestPairedTTestHandComputed(t *testing.T) {
	// d = a-b = [1,2,3]: mean 2, sd 1, t = 2*sqrt(3), df 2; for df=2 the
	// two-sided p is 1 - t/sqrt(2+t^2).
	a := []float64{2, 4, 6}
	b := []float64{1, 2, 3}
	r, err := PairedTTest(a, b)
	if err != nil {
		t.Fatal(err)
	}
	tv := 2 * math.Sqrt(3)
	if !near(r.T, tv, 1e-12) || r.DF != 2 || !near(r.MeanDiff, 2, 1e-12) {
		t.Errorf("t=%v df=%d mean=%v, want t=%v df=2 mean=2", r.T, r.DF, r.MeanDiff, tv)
	}
	if want := 1 - tv/math.Sqrt(2+tv*tv); !near(r.P, want, 1e-9) {
		t.Errorf("p = %v, want %v", r.P, want)
	}
	r, _ = PairedTTest([]float64{1, 1}, []float64{1, 1})
	if r.P != 1 || r.T != 0 {
		t.Errorf("identical: %+v, want p=1 t=0", r)
	}
	r, _ = PairedTTest([]float64{2, 2}, []float64{1, 1})
	if r.P != 0 || !math.IsInf(r.T, 1) {
		t.Errorf("constant shift: %+v, want p=0 t=+Inf", r)
	}
	if _, err := PairedTTest([]float64{1}, []float64{1, 2}); err == nil {
		t.Error("length mismatch: want error")
	}
	if _, err := PairedTTest([]float64{1}, []float64{2}); err == nil {
		t.Error("one pair: want error")
	}
}

func TestPairedPermutationTest(t *testing.T) {
	// d = [1,2,3]: of the 8 sign patterns, 2 reach |sum| = 6, so the exact
	// p is 0.25.
	a := []float64{2, 4, 6}
	b := []float64{1, 2, 3}
	r, err := PairedPermutationTest(a, b, 20000, 7)
	if err != nil {
		t.Fatal(err)
	}
	if !near(r.P, 0.25, 0.015) {
		t.Errorf("p = %v, want ≈ 0.25", r.P)
	}
	r2, _ := PairedPermutationTest(a, b, 20000, 7)
	if r2.P != r.P {
		t.Errorf("same seed gave %v then %v", r.P, r2.P)
	}
	r3, _ := PairedPermutationTest(a, b, 20000, 8)
	if r3.P == r.P {
		t.Logf("different seeds gave the same p %v (possible, unlikely)", r.P)
	}
	// Ties: identical scores are never significant.
	r, _ = PairedPermutationTest([]float64{1, 0, 1}, []float64{1, 0, 1}, 100, 1)
	if r.P != 1 {
		t.Errorf("identical: p = %v, want 1", r.P)
	}
	// A large consistent difference is significant.
	var x, y []float64
	for i := range 50 {
		x = append(x, 1)
		y = append(y, float64(i%5)/10)
	}
	r, _ = PairedPermutationTest(x, y, 2000, 3)
	if r.P > 0.001 {
		t.Errorf("consistent difference: p = %v, want <= 1/2001", r.P)
	}
	if _, err := PairedPermutationTest(a, b, 0, 1); err == nil {
		t.Error("rounds 0: want error")
	}
}

func TestBootstrap(t *testing.T) {
	ci, err := MeanCI([]float64{3, 3, 3, 3}, 200, 0.95, 1)
	if err != nil {
		t.Fatal(err)
	}
	if ci.Value != 3 || ci.Lo != 3 || ci.Hi != 3 {
		t.Errorf("constant: %+v", ci)
	}
	xs := make([]float64, 200)
	for i := range xs {
		if i%4 == 0 {
			xs[i] = 1
		}
	}
	ci, _ = MeanCI(xs, 2000, 0.95, 42)
	// Mean 0.25, binomial SE sqrt(.25*.75/200) ≈ 0.0306: the 95% interval
	// spans about ±0.06.
	if ci.Value != 0.25 || !(ci.Lo < 0.25 && ci.Hi > 0.25) || !near(ci.Hi-ci.Lo, 0.12, 0.03) {
		t.Errorf("ci = %+v, want around 0.25 ± 0.06", ci)
	}
	ci2, _ := MeanCI(xs, 2000, 0.95, 42)
	if ci2 != ci {
		t.Errorf("same seed: %+v vs %+v", ci, ci2)
	}
	if _, err := MeanCI(nil, 10, 0.95, 1); err == nil {
		t.Error("empty: want error")
	}
	if _, err := MeanCI(xs, 10, 1.5, 1); err == nil {
		t.Error("level 1.5: want error")
	}
}
