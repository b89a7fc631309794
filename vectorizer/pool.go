package vectorizer

import "math"

// pool reduces one sequence's hidden states [seqLen×dim] (row-major) to a vector.
// mean averages the positions whose mask is 1, as sentence-transformers does; cls takes position 0.
func pool(hidden []float32, mask []int64, dim int, mode string, out []float32) {
	if mode == "cls" {
		copy(out, hidden[:dim])
		return
	}
	acc := make([]float64, dim)
	n := 0
	for t, m := range mask {
		if m == 0 {
			continue
		}
		n++
		row := hidden[t*dim : (t+1)*dim]
		for j, x := range row {
			acc[j] += float64(x)
		}
	}
	if n == 0 {
		n = 1
	}
	for j := range out {
		out[j] = float32(acc[j] / float64(n))
	}
}

// l2normalize scales v to unit length in place; a zero vector stays zero.
func l2normalize(v []float32) {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	if s == 0 {
		return
	}
	inv := 1 / math.Sqrt(s)
	for i, x := range v {
		v[i] = float32(float64(x) * inv)
	}
}
