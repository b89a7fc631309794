package eval

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"gonum.org/v1/gonum/stat/distuv"
)

// TTest is a two-sided paired t-test result.
type TTest struct {
	N        int     `json:"n"`
	MeanDiff float64 `json:"mean_diff"` // mean of a-b
	T        float64 `json:"t"`
	DF       int     `json:"df"`
	P        float64 `json:"p"`
}

func pairedDiffs(a, b []float64) ([]float64, error) {
	if len(a) != len(b) {
		return nil, fmt.Errorf("paired test: %d vs %d scores", len(a), len(b))
	}
	if len(a) < 2 {
		return nil, fmt.Errorf("paired test: need at least 2 pairs, have %d", len(a))
	}
	d := make([]float64, len(a))
	for i := range a {
		d[i] = a[i] - b[i]
	}
	return d, nil
}

// PairedTTest tests whether mean(a-b) differs from 0 (scipy's ttest_rel).
// With all differences equal the variance is zero: P is 1 when they are
// all zero and 0 otherwise.
func PairedTTest(a, b []float64) (TTest, error) {
	d, err := pairedDiffs(a, b)
	if err != nil {
		return TTest{}, err
	}
	n := float64(len(d))
	m := Mean(d)
	ss := 0.0
	for _, x := range d {
		ss += (x - m) * (x - m)
	}
	sd := math.Sqrt(ss / (n - 1))
	res := TTest{N: len(d), MeanDiff: m, DF: len(d) - 1}
	if sd == 0 {
		if m == 0 {
			res.P = 1
		} else {
			res.T = math.Copysign(math.Inf(1), m)
		}
		return res, nil
	}
	res.T = m / (sd / math.Sqrt(n))
	st := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: n - 1}
	res.P = 2 * st.CDF(-math.Abs(res.T))
	return res, nil
}

// PermTest is a paired (sign-flip) permutation test result.
type PermTest struct {
	N        int     `json:"n"`
	MeanDiff float64 `json:"mean_diff"`
	Rounds   int     `json:"rounds"`
	Seed     uint64  `json:"seed"`
	P        float64 `json:"p"`
}

// PairedPermutationTest randomly swaps each pair's scores (flips the sign
// of a-b) rounds times and reports the two-sided p-value
// (extreme+1)/(rounds+1). The same seed gives the same p.
func PairedPermutationTest(a, b []float64, rounds int, seed uint64) (PermTest, error) {
	d, err := pairedDiffs(a, b)
	if err != nil {
		return PermTest{}, err
	}
	if rounds <= 0 {
		return PermTest{}, fmt.Errorf("permutation test: rounds must be > 0, got %d", rounds)
	}
	obs := math.Abs(Mean(d))
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	extreme := 0
	// A tolerance keeps ties (common with 0/1 hit scores) counted as
	// extreme despite float summation order.
	tol := 1e-12 * (1 + obs)
	for range rounds {
		s := 0.0
		for _, x := range d {
			if rng.Uint64()&1 == 1 {
				s -= x
			} else {
				s += x
			}
		}
		if math.Abs(s/float64(len(d))) >= obs-tol {
			extreme++
		}
	}
	return PermTest{N: len(d), MeanDiff: Mean(d), Rounds: rounds, Seed: seed, P: float64(extreme+1) / float64(rounds+1)}, nil
}

// CI is a bootstrap percentile confidence interval around Value.
type CI struct {
	Value float64 `json:"value"`
	Lo    float64 `json:"lo"`
	Hi    float64 `json:"hi"`
	Level float64 `json:"level"`
}

// Bootstrap resamples n paired items with replacement rounds times,
// evaluates stat on each resample (indices into the items) and returns the
// percentile interval at level (e.g. 0.95) around stat on all items.
func Bootstrap(n int, stat func(idx []int) float64, rounds int, level float64, seed uint64) (CI, error) {
	if n == 0 {
		return CI{}, fmt.Errorf("bootstrap: no items")
	}
	if rounds <= 0 || level <= 0 || level >= 1 {
		return CI{}, fmt.Errorf("bootstrap: want rounds > 0 and 0 < level < 1, got %d, %g", rounds, level)
	}
	all := make([]int, n)
	for i := range all {
		all[i] = i
	}
	rng := rand.New(rand.NewPCG(seed, 0x2545f4914f6cdd1d))
	vals := make([]float64, rounds)
	idx := make([]int, n)
	for r := range rounds {
		for i := range idx {
			idx[i] = rng.IntN(n)
		}
		vals[r] = stat(idx)
	}
	sort.Float64s(vals)
	q := func(p float64) float64 {
		// Linear interpolation between order statistics (numpy's default).
		pos := p * float64(rounds-1)
		lo := int(math.Floor(pos))
		hi := min(lo+1, rounds-1)
		return vals[lo] + (vals[hi]-vals[lo])*(pos-float64(lo))
	}
	a := (1 - level) / 2
	return CI{Value: stat(all), Lo: q(a), Hi: q(1 - a), Level: level}, nil
}

// MeanCI is the bootstrap CI of the mean of xs.
func MeanCI(xs []float64, rounds int, level float64, seed uint64) (CI, error) {
	return Bootstrap(len(xs), func(idx []int) float64 {
		s := 0.0
		for _, i := range idx {
			s += xs[i]
		}
		return s / float64(len(idx))
	}, rounds, level, seed)
}
