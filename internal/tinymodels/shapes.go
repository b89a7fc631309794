package tinymodels

import (
	"fmt"
	"sort"
)

// Family is the architecture a Shape is written as.
type Family string

// Architectures.
const (
	FamilyBERT Family = "bert"        // post-LN BERT encoder (mBERT, MiniLM, e5)
	FamilyXLMR Family = "xlm-roberta" // the same graph with XLM-R's config
	FamilyMT5  Family = "mt5"         // T5 v1.1 encoder-decoder (gated-GELU)
)

// Shape is the size of a model. Encoder families use Hidden, Layers,
// Heads, Intermediate, MaxPositions, TypeVocab; FamilyMT5 uses Hidden
// (d_model), Layers and DecoderLayers, Heads, HeadDim (d_kv), Intermediate
// (d_ff), Buckets and MaxDistance.
type Shape struct {
	Name          string
	Family        Family
	Vocab         int // 0 = the tiny tokenizer's vocabulary size
	Hidden        int
	Layers        int
	DecoderLayers int
	Heads         int
	HeadDim       int
	Intermediate  int
	MaxPositions  int
	TypeVocab     int
	Buckets       int
	MaxDistance   int
	Seed          uint64
}

// Tiny shapes for tests: small enough that ONNX Runtime loads and runs
// them in milliseconds.
var (
	TinyEncoder = Shape{Name: "tiny", Family: FamilyBERT, Hidden: 32, Layers: 2, Heads: 4,
		Intermediate: 64, MaxPositions: 512, TypeVocab: 2, Seed: 1}
	TinySeq2Seq = Shape{Name: "tiny", Family: FamilyMT5, Hidden: 32, Layers: 2, DecoderLayers: 2,
		Heads: 4, HeadDim: 8, Intermediate: 64, Buckets: 32, MaxDistance: 128, Seed: 2}
)

// Real sizes, with generated weights, for benchmarks.
var (
	MiniLML12 = Shape{Name: "minilm-l12", Family: FamilyBERT, Vocab: 250002, Hidden: 384, Layers: 12,
		Heads: 12, Intermediate: 1536, MaxPositions: 512, TypeVocab: 2, Seed: 11}
	BERTBase = Shape{Name: "bert-base", Family: FamilyBERT, Vocab: 119547, Hidden: 768, Layers: 12,
		Heads: 12, Intermediate: 3072, MaxPositions: 512, TypeVocab: 2, Seed: 12}
	XLMRLarge = Shape{Name: "xlmr-large", Family: FamilyXLMR, Vocab: 250002, Hidden: 1024, Layers: 24,
		Heads: 16, Intermediate: 4096, MaxPositions: 514, TypeVocab: 1, Seed: 13}
	MT5Small = Shape{Name: "mt5-small", Family: FamilyMT5, Vocab: 250112, Hidden: 512, Layers: 8,
		DecoderLayers: 8, Heads: 6, HeadDim: 64, Intermediate: 1024, Buckets: 32, MaxDistance: 128, Seed: 14}
	MT5Base = Shape{Name: "mt5-base", Family: FamilyMT5, Vocab: 250112, Hidden: 768, Layers: 12,
		DecoderLayers: 12, Heads: 12, HeadDim: 64, Intermediate: 2048, Buckets: 32, MaxDistance: 128, Seed: 15}
)

// Shapes are the named shapes `xqg models tiny --shape` accepts; "tiny"
// stands for both tiny models.
var Shapes = map[string][]Shape{
	"tiny":       {TinyEncoder, TinySeq2Seq},
	"minilm-l12": {MiniLML12},
	"bert-base":  {BERTBase},
	"xlmr-large": {XLMRLarge},
	"mt5-small":  {MT5Small},
	"mt5-base":   {MT5Base},
}

// ShapeNames lists the keys of Shapes, sorted.
func ShapeNames() []string {
	var names []string
	for k := range Shapes {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// IsSeq2Seq reports whether the shape is an encoder-decoder.
func (s Shape) IsSeq2Seq() bool { return s.Family == FamilyMT5 }

func (s Shape) validate() error {
	bad := func(f string, a ...any) error { return fmt.Errorf("shape %q: "+f, append([]any{s.Name}, a...)...) }
	if s.Hidden <= 0 || s.Layers <= 0 || s.Heads <= 0 || s.Intermediate <= 0 {
		return bad("hidden, layers, heads and intermediate must be positive")
	}
	switch s.Family {
	case FamilyBERT, FamilyXLMR:
		if s.Hidden%s.Heads != 0 {
			return bad("hidden %d not divisible by heads %d", s.Hidden, s.Heads)
		}
		if s.MaxPositions <= 0 || s.TypeVocab <= 0 {
			return bad("max positions and type vocab must be positive")
		}
	case FamilyMT5:
		if s.HeadDim <= 0 || s.DecoderLayers <= 0 || s.Buckets < 4 || s.MaxDistance <= s.Buckets/2 {
			return bad("need head dim, decoder layers, buckets ≥ 4 and max distance > buckets/2")
		}
	default:
		return bad("unknown family %q", s.Family)
	}
	return nil
}

// approxParams is the number of float parameters the model files hold.
func (s Shape) approxParams(vocab int) int64 {
	h, f, v := int64(s.Hidden), int64(s.Intermediate), int64(vocab)
	switch s.Family {
	case FamilyMT5:
		inner := int64(s.Heads * s.HeadDim)
		enc := int64(s.Layers) * (4*h*inner + 3*h*f)
		dec := int64(s.DecoderLayers) * (8*h*inner + 3*h*f)
		return v*h*2 + enc + dec
	default:
		return v*h + int64(s.Layers)*(4*h*h+2*h*f)
	}
}
