package augment

import (
	"fmt"
	"time"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/xqg/xqg/internal/ortenv"
	"github.com/xqg/xqg/vectorizer"
)

// session is one ONNX model with every input and output it declares, fed by name.
type session struct {
	s       *ort.DynamicAdvancedSession
	path    string
	inputs  []string
	outputs []string
	in      map[string]vectorizer.IO
	out     map[string]bool
}

func openSession(path string, threads int) (*session, error) {
	ins, outs, err := vectorizer.ModelIO(path)
	if err != nil {
		return nil, err
	}
	s := &session{path: path, in: map[string]vectorizer.IO{}, out: map[string]bool{}}
	for _, i := range ins {
		s.inputs = append(s.inputs, i.Name)
		s.in[i.Name] = i
	}
	for _, o := range outs {
		s.outputs = append(s.outputs, o.Name)
		s.out[o.Name] = true
	}
	opts, err := ortenv.SessionOptions(threads)
	if err != nil {
		return nil, err
	}
	defer opts.Destroy()
	s.s, err = ort.NewDynamicAdvancedSession(path, s.inputs, s.outputs, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

func (s *session) has(name string) bool { _, ok := s.in[name]; return ok }

func (s *session) require(inputs, outputs []string) error {
	for _, n := range inputs {
		if !s.has(n) {
			return fmt.Errorf("%s: model has no input %q", s.path, n)
		}
	}
	for _, n := range outputs {
		if !s.out[n] {
			return fmt.Errorf("%s: model has no output %q", s.path, n)
		}
	}
	return nil
}

// run feeds inputs by name; a declared input missing from feeds is an error naming it. Outputs
// in pre are written in place (the caller keeps owning them); the others are allocated by ONNX
// Runtime and returned by name, and the caller destroys them.
func (s *session) run(ro *ort.RunOptions, feeds map[string]ort.Value, pre ...map[string]ort.Value) (map[string]ort.Value, time.Duration, error) {
	in := make([]ort.Value, len(s.inputs))
	for i, name := range s.inputs {
		v, ok := feeds[name]
		if !ok {
			return nil, 0, fmt.Errorf("%s: no value for input %q", s.path, name)
		}
		in[i] = v
	}
	out := make([]ort.Value, len(s.outputs))
	given := make([]bool, len(s.outputs))
	if len(pre) > 0 {
		for i, name := range s.outputs {
			if v, ok := pre[0][name]; ok {
				out[i], given[i] = v, true
			}
		}
	}
	t0 := time.Now()
	err := s.s.RunWithOptions(in, out, ro)
	d := time.Since(t0)
	if err != nil {
		for i, v := range out {
			if v != nil && !given[i] {
				v.Destroy()
			}
		}
		return nil, d, fmt.Errorf("%s: %w", s.path, err)
	}
	m := make(map[string]ort.Value, len(out))
	for i, name := range s.outputs {
		if !given[i] {
			m[name] = out[i]
		}
	}
	return m, d, nil
}

func (s *session) close() {
	if s != nil && s.s != nil {
		s.s.Destroy()
	}
}

func floatTensor(v ort.Value, name string) (*ort.Tensor[float32], error) {
	t, ok := v.(*ort.Tensor[float32])
	if !ok {
		return nil, fmt.Errorf("output %s is %T, want a float32 tensor", name, v)
	}
	return t, nil
}

// gatherRows builds a tensor whose row i is row rows[i] of t (first dimension).
func gatherRows[T ort.TensorData](t *ort.Tensor[T], rows []int) (*ort.Tensor[T], error) {
	shape := t.GetShape().Clone()
	per := int(shape.FlattenedSize() / shape[0])
	src := t.GetData()
	dst := make([]T, len(rows)*per)
	for i, r := range rows {
		copy(dst[i*per:(i+1)*per], src[r*per:(r+1)*per])
	}
	shape[0] = int64(len(rows))
	return ort.NewTensor(shape, dst)
}

func destroyAll(m map[string]ort.Value) {
	for _, v := range m {
		if v != nil {
			v.Destroy()
		}
	}
}
