package vectorizer

import (
	"fmt"

	"github.com/xqg/xqg/internal/onnx"
)

// IO is one graph input or output: name, element type and dimensions (-1 where symbolic).
type IO struct {
	Name string
	Type onnx.DataType
	Dims []int64
}

// ModelIO reads a model's inputs and outputs from the file itself, without ONNX Runtime: asking
// ONNX Runtime would build a whole session (seconds for a GB-sized model) only to be thrown away.
func ModelIO(path string) (inputs, outputs []IO, err error) {
	info, err := onnx.ReadInfo(path)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: not a loadable ONNX model: %w", path, err)
	}
	if len(info.Outputs) == 0 {
		return nil, nil, fmt.Errorf("%s: not a loadable ONNX model: the graph has no outputs", path)
	}
	// IR < 4 models list initializers among the graph inputs; they are not fed.
	init := make(map[string]bool, len(info.Initializers))
	for _, t := range info.Initializers {
		init[t.Name] = true
	}
	conv := func(v onnx.ValueInfo) IO {
		io := IO{Name: v.Name, Type: v.Type}
		for _, d := range v.Shape {
			if d.Param != "" || d.Value <= 0 {
				io.Dims = append(io.Dims, -1)
			} else {
				io.Dims = append(io.Dims, d.Value)
			}
		}
		return io
	}
	for _, v := range info.Inputs {
		if !init[v.Name] {
			inputs = append(inputs, conv(v))
		}
	}
	for _, v := range info.Outputs {
		outputs = append(outputs, conv(v))
	}
	return inputs, outputs, nil
}
