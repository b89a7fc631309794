package augment

import (
	"errors"
	"fmt"
	"math"
)

// Fusion modes.
const (
	// ModeSum is the release's fuse_embeds.py: v = (1-α)·p + α·Σ q.
	ModeSum = "sum"
	// ModeMean keeps the queries' weight independent of how many there are: v = (1-α)·p + α·mean(q).
	ModeMean = "mean"
)

// Fuse combines a passage vector with its generated queries' vectors. It is computed in float64 so
// that the order of the queries does not change the result beyond float32 rounding. With no queries
// both modes give (1-α)·p (the sum of nothing is zero, and mean follows sum so that a passage
// whose generation produced nothing keeps its direction). normalize scales the result to unit L2
// length; a zero result is returned as is.
func Fuse(p []float32, qs [][]float32, alpha float64, mode string, normalize bool) ([]float32, error) {
	if len(p) == 0 {
		return nil, errors.New("fuse: empty passage vector")
	}
	if alpha < 0 || alpha > 1 || math.IsNaN(alpha) {
		return nil, fmt.Errorf("fuse: alpha must be within [0,1], got %v", alpha)
	}
	acc := make([]float64, len(p))
	for i, q := range qs {
		if len(q) != len(p) {
			return nil, fmt.Errorf("fuse: query vector %d has dimension %d, passage vector has %d", i, len(q), len(p))
		}
		for j, x := range q {
			acc[j] += float64(x)
		}
	}
	w := alpha
	switch mode {
	case ModeSum, "":
	case ModeMean:
		if len(qs) > 0 {
			w = alpha / float64(len(qs))
		}
	default:
		return nil, fmt.Errorf("fuse: mode must be sum or mean, got %q", mode)
	}
	var norm float64
	for j, x := range p {
		acc[j] = (1-alpha)*float64(x) + w*acc[j]
		norm += acc[j] * acc[j]
	}
	scale := 1.0
	if normalize && norm > 0 {
		scale = 1 / math.Sqrt(norm)
	}
	out := make([]float32, len(p))
	for j, x := range acc {
		out[j] = float32(x * scale)
	}
	return out, nil
}
