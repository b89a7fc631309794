package eval

import "math"

// RecallAtK is |relevant ∩ top k| / |relevant| (0 when nothing is
// relevant).
func RecallAtK(ranked []string, relevant map[string]int, k int) float64 {
	n := 0
	for _, g := range relevant {
		if g > 0 {
			n++
		}
	}
	if n == 0 {
		return 0
	}
	hit := 0
	seen := map[string]bool{}
	for i, id := range ranked {
		if i >= k {
			break
		}
		if relevant[id] > 0 && !seen[id] {
			seen[id] = true
			hit++
		}
	}
	return float64(hit) / float64(n)
}

// SuccessAtK is 1 when any relevant passage is in the top k.
func SuccessAtK(ranked []string, relevant map[string]int, k int) float64 {
	for i, id := range ranked {
		if i >= k {
			break
		}
		if relevant[id] > 0 {
			return 1
		}
	}
	return 0
}

// MRRAtK is the reciprocal rank of the first relevant passage within the
// top k (0 if none).
func MRRAtK(ranked []string, relevant map[string]int, k int) float64 {
	for i, id := range ranked {
		if i >= k {
			break
		}
		if relevant[id] > 0 {
			return 1 / float64(i+1)
		}
	}
	return 0
}

// NDCGAtK is nDCG@k with trec_eval's linear gain: DCG = Σ rel_i /
// log2(i+1) over ranks i = 1..k, normalised by the DCG of the ideal
// ordering of all judged passages. A passage retrieved twice counts once.
func NDCGAtK(ranked []string, relevant map[string]int, k int) float64 {
	var grades []int
	for _, g := range relevant {
		if g > 0 {
			grades = append(grades, g)
		}
	}
	if len(grades) == 0 {
		return 0
	}
	// Ideal: grades sorted descending.
	for i := 1; i < len(grades); i++ {
		for j := i; j > 0 && grades[j] > grades[j-1]; j-- {
			grades[j], grades[j-1] = grades[j-1], grades[j]
		}
	}
	idcg := 0.0
	for i := 0; i < len(grades) && i < k; i++ {
		idcg += float64(grades[i]) / math.Log2(float64(i+2))
	}
	dcg := 0.0
	seen := map[string]bool{}
	for i, id := range ranked {
		if i >= k {
			break
		}
		if g := relevant[id]; g > 0 && !seen[id] {
			seen[id] = true
			dcg += float64(g) / math.Log2(float64(i+2))
		}
	}
	return dcg / idcg
}

// Mean of xs (0 for none).
func Mean(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}
