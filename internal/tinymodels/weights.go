package tinymodels

import (
	"encoding/binary"
	"hash/fnv"
	"io"
	"math"
	"runtime"
	"sync"

	"github.com/xqg/xqg/internal/onnx"
)

// Weights are a pure function of (model seed, tensor name, element index):
// each block of blockElems elements has its own splitmix64 stream, so a
// tensor can be generated in parallel, streamed without holding it, or
// materialised for the reference forward pass, always with the same values.

const blockElems = 1 << 16

func splitmix(x *uint64) uint64 {
	*x += 0x9e3779b97f4a7c15
	z := *x
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func nameHash(name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return h.Sum64()
}

// param describes one float tensor: value = mean + std·u, u uniform with
// unit variance (in [-√3, √3)).
type param struct {
	name string
	dims []int64
	mean float32
	std  float32
	// data, when set, overrides the generated values (tiny models only).
	data []float32
}

func (p *param) numel() int64 {
	n := int64(1)
	for _, d := range p.dims {
		n *= d
	}
	return n
}

// fillBlock writes the values of block b (elements b·blockElems …) to dst.
func (p *param) fillBlock(seed uint64, b int64, dst []float32) {
	st := seed ^ nameHash(p.name) ^ (uint64(b) * 0xd1b54a32d192ed03)
	scale := p.std * 2 * float32(math.Sqrt(3)) / (1 << 24)
	off := p.mean - p.std*float32(math.Sqrt(3))
	for i := 0; i < len(dst); i += 2 {
		r := splitmix(&st)
		dst[i] = off + float32(r>>40)*scale
		if i+1 < len(dst) {
			dst[i+1] = off + float32((r>>16)&0xffffff)*scale
		}
	}
}

// values materialises the tensor.
func (p *param) values(seed uint64) []float32 {
	if p.data != nil {
		return p.data
	}
	n := p.numel()
	out := make([]float32, n)
	for b := int64(0); b*blockElems < n; b++ {
		lo := b * blockElems
		p.fillBlock(seed, b, out[lo:min(lo+blockElems, n)])
	}
	return out
}

// stream writes the tensor little-endian, generating blocks on all cores
// but holding only a bounded window of them.
func (p *param) stream(seed uint64, w io.Writer) error {
	if p.data != nil {
		_, err := w.Write(onnx.Float32Bytes(p.data))
		return err
	}
	n := p.numel()
	nblocks := (n + blockElems - 1) / blockElems
	workers := int64(runtime.GOMAXPROCS(0))
	window := 4 * workers
	bufs := make([][]byte, window)
	floats := make([][]float32, window)
	for i := range bufs {
		bufs[i] = make([]byte, 4*blockElems)
		floats[i] = make([]float32, blockElems)
	}
	for start := int64(0); start < nblocks; start += window {
		end := min(start+window, nblocks)
		var wg sync.WaitGroup
		for wk := int64(0); wk < workers; wk++ {
			wg.Add(1)
			go func(wk int64) {
				defer wg.Done()
				for b := start + wk; b < end; b += workers {
					slot := b - start
					lo := b * blockElems
					cnt := min(lo+blockElems, n) - lo
					f := floats[slot][:cnt]
					p.fillBlock(seed, b, f)
					buf := bufs[slot][:4*cnt]
					for i, v := range f {
						binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(v))
					}
				}
			}(wk)
		}
		wg.Wait()
		for b := start; b < end; b++ {
			lo := b * blockElems
			cnt := min(lo+blockElems, n) - lo
			if _, err := w.Write(bufs[b-start][:4*cnt]); err != nil {
				return err
			}
		}
	}
	return nil
}

// paramSet is the weights of one model; tensors are created lazily so the
// same set serves the ONNX writer and the Go reference.
type paramSet struct {
	seed    uint64
	params  map[string]*param
	order   []string
	tensors map[string]*onnx.Tensor
}

func newParamSet(seed uint64) *paramSet {
	return &paramSet{seed: seed, params: map[string]*param{}, tensors: map[string]*onnx.Tensor{}}
}

func (s *paramSet) add(name string, mean, std float32, dims ...int64) *param {
	if p, ok := s.params[name]; ok {
		return p
	}
	p := &param{name: name, dims: dims, mean: mean, std: std}
	s.params[name] = p
	s.order = append(s.order, name)
	return p
}

// tensor is the ONNX initializer for a parameter, streaming its values.
func (s *paramSet) tensor(name string) *onnx.Tensor {
	if t, ok := s.tensors[name]; ok {
		return t
	}
	p := s.params[name]
	t := &onnx.Tensor{Name: name, Type: onnx.Float, Dims: p.dims,
		Stream: func(w io.Writer) error { return p.stream(s.seed, w) }}
	s.tensors[name] = t
	return t
}

func (s *paramSet) values(name string) []float32 { return s.params[name].values(s.seed) }
