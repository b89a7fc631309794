package augment

import (
	"math"
	"math/rand/v2"
	"sort"
)

// argmax returns the first index of the largest logit, as torch.argmax does.
func argmax(logits []float32) int {
	best := 0
	for i, x := range logits {
		if x > logits[best] {
			best = i
		}
	}
	return best
}

// sampleTopK draws a token from softmax(logits/temperature) restricted to the k largest logits
// (k <= 0 or k >= len(logits) means the whole vocabulary), like transformers' TopKLogitsWarper.
// Ties at the k-th logit keep the lower indices so the draw is reproducible.
func sampleTopK(logits []float32, k int, temperature float64, rng *rand.Rand) int {
	idx := topK(logits, k)
	maxL := float64(logits[idx[0]])
	probs := make([]float64, len(idx))
	var sum float64
	for i, j := range idx {
		p := math.Exp((float64(logits[j]) - maxL) / temperature)
		probs[i] = p
		sum += p
	}
	u := rng.Float64() * sum
	for i, p := range probs {
		u -= p
		if u < 0 {
			return idx[i]
		}
	}
	return idx[len(idx)-1]
}

// topK returns the indices of the k largest logits, largest first.
func topK(logits []float32, k int) []int {
	if k <= 0 || k > len(logits) {
		k = len(logits)
	}
	if k == len(logits) {
		idx := make([]int, len(logits))
		for i := range idx {
			idx[i] = i
		}
		sort.SliceStable(idx, func(a, b int) bool { return logits[idx[a]] > logits[idx[b]] })
		return idx
	}
	// Insertion into a small sorted buffer: k is ~10 against a 250k vocabulary, so almost every
	// logit is rejected by one comparison with the k-th largest so far. That threshold lives in a
	// local and the logits are tested eight at a time, so the hot loop is eight loads and
	// well-predicted branches; this scan is the Go side's main cost per decoding step.
	idx := make([]int, 0, k)
	insert := func(i int, x float32) {
		pos := sort.Search(len(idx), func(p int) bool { return logits[idx[p]] < x })
		if len(idx) < k {
			idx = append(idx, 0)
		}
		copy(idx[pos+1:], idx[pos:len(idx)-1])
		idx[pos] = i
	}
	i := 0
	for ; len(idx) < k; i++ {
		insert(i, logits[i])
	}
	thr := logits[idx[k-1]]
	for ; i+8 <= len(logits); i += 8 {
		b := logits[i : i+8 : i+8]
		if b[0] <= thr && b[1] <= thr && b[2] <= thr && b[3] <= thr &&
			b[4] <= thr && b[5] <= thr && b[6] <= thr && b[7] <= thr {
			continue
		}
		for j, x := range b {
			// "x > thr" rather than "!(x <= thr)": a NaN logit is never taken once the buffer is
			// full (inserting it past the end used to panic); numbers are kept exactly as before.
			if x > thr {
				insert(i+j, x)
				thr = logits[idx[k-1]]
			}
		}
	}
	for ; i < len(logits); i++ {
		if x := logits[i]; x > thr {
			insert(i, x)
			thr = logits[idx[k-1]]
		}
	}
	return idx
}

// logSoftmax writes log(softmax(logits)) to out.
func logSoftmax(logits []float32, out []float64) {
	maxL := float64(logits[argmax(logits)])
	var sum float64
	for _, x := range logits {
		sum += math.Exp(float64(x) - maxL)
	}
	lse := maxL + math.Log(sum)
	for i, x := range logits {
		out[i] = float64(x) - lse
	}
}
