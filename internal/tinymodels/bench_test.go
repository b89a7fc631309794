package tinymodels

import (
	"encoding/binary"
	"io"
	"math"
	"testing"
)

// BenchmarkStreamWeights measures weight generation + encoding throughput
// (what bounds writing the real-size shapes), for a 64 Mi-element tensor.
func BenchmarkStreamWeights(b *testing.B) {
	p := &param{name: "w", dims: []int64{1 << 16, 1 << 10}, std: 0.02}
	b.SetBytes(4 * p.numel())
	for i := 0; i < b.N; i++ {
		if err := p.stream(1, io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}

func TestStreamMatchesValues(t *testing.T) {
	p := &param{name: "w", dims: []int64{3, blockElems + 7}, mean: 1, std: 0.5}
	var sw sliceBuf
	if err := p.stream(9, &sw); err != nil {
		t.Fatal(err)
	}
	v := p.values(9)
	if len(sw.b) != 4*len(v) {
		t.Fatalf("stream wrote %d bytes for %d values", len(sw.b), len(v))
	}
	var mean float64
	for i, x := range v {
		got := float32frombits(sw.b[4*i:])
		if got != x {
			t.Fatalf("element %d: streamed %v, materialised %v", i, got, x)
		}
		mean += float64(x)
	}
	if mean /= float64(len(v)); mean < 0.98 || mean > 1.02 {
		t.Errorf("mean %v, want ≈ 1", mean)
	}
}

type sliceBuf struct{ b []byte }

func (s *sliceBuf) Write(p []byte) (int, error) {
	s.b = append(s.b, p...)
	return len(p), nil
}

func float32frombits(b []byte) float32 { return math.Float32frombits(binary.LittleEndian.Uint32(b)) }
