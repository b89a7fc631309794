package augment

import (
	"math"
	"strings"
	"testing"
)

func TestFuse(t *testing.T) {
	p := []float32{1, 0, 2}
	qs := [][]float32{{0, 1, 0}, {2, 1, -2}}
	tests := []struct {
		name      string
		alpha     float64
		mode      string
		normalize bool
		qs        [][]float32
		want      []float64
	}{
		// 0.9·p + 0.1·(q1+q2) = (0.9,0,1.8) + 0.1·(2,2,-2)
		{"sum", 0.1, ModeSum, false, qs, []float64{1.1, 0.2, 1.6}},
		{"default mode is sum", 0.1, "", false, qs, []float64{1.1, 0.2, 1.6}},
		// 0.9·p + 0.1·(1,1,-1)
		{"mean", 0.1, ModeMean, false, qs, []float64{1.0, 0.1, 1.7}},
		{"alpha 0 is the passage", 0, ModeSum, false, qs, []float64{1, 0, 2}},
		{"alpha 1 is the query sum", 1, ModeSum, false, qs, []float64{2, 2, -2}},
		{"no queries", 0.5, ModeMean, false, nil, []float64{0.5, 0, 1}},
		// (1.1,0.2,1.6)/sqrt(1.21+0.04+2.56)
		{"sum normalized", 0.1, ModeSum, true, qs, []float64{1.1 / math.Sqrt(3.81), 0.2 / math.Sqrt(3.81), 1.6 / math.Sqrt(3.81)}},
		{"release default alpha", 0.01, ModeSum, false, qs, []float64{0.99 + 0.02, 0.02, 1.98 - 0.02}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Fuse(p, tt.qs, tt.alpha, tt.mode, tt.normalize)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("len %d, want %d", len(got), len(tt.want))
			}
			for i := range got {
				if math.Abs(float64(got[i])-tt.want[i]) > 1e-6 {
					t.Fatalf("got %v, want %v", got, tt.want)
				}
			}
		})
	}
}

func TestFuseErrors(t *testing.T) {
	tests := []struct {
		name  string
		p     []float32
		qs    [][]float32
		alpha float64
		mode  string
		want  string
	}{
		{"dimension mismatch", []float32{1, 2}, [][]float32{{1, 2}, {1, 2, 3}}, 0.1, ModeSum, "query vector 1 has dimension 3"},
		{"empty passage", nil, nil, 0.1, ModeSum, "empty passage vector"},
		{"alpha out of range", []float32{1}, nil, 1.5, ModeSum, "alpha must be within"},
		{"unknown mode", []float32{1}, nil, 0.1, "max", "mode must be sum or mean"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Fuse(tt.p, tt.qs, tt.alpha, tt.mode, false)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}
