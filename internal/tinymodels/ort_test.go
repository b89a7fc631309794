package tinymodels

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"

	ort "github.com/yalue/onnxruntime_go"
)

// ONNX Runtime is initialised once for the package's tests; tests that
// need it skip when the library is missing (fail under XQG_TEST_STRICT=1).
var (
	ortOnce sync.Once
	ortErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if ortErr == nil && ort.IsInitialized() {
		_ = ort.DestroyEnvironment()
	}
	os.Exit(code)
}

func needORT(t testing.TB) {
	t.Helper()
	ortOnce.Do(func() {
		lib := os.Getenv("XQG_ORT_LIBRARY")
		if lib == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				ortErr = err
				return
			}
			lib = filepath.Join(home, ".cache", "xqg", "onnxruntime", "1.24.1", "libonnxruntime.so.1")
		}
		if _, err := os.Stat(lib); err != nil {
			ortErr = fmt.Errorf("onnx runtime library: %w", err)
			return
		}
		ort.SetSharedLibraryPath(lib)
		ortErr = ort.InitializeEnvironment()
	})
	if ortErr == nil {
		return
	}
	if os.Getenv("XQG_TEST_STRICT") == "1" {
		t.Fatalf("ONNX Runtime unavailable: %v", ortErr)
	}
	t.Skipf("ONNX Runtime unavailable: %v", ortErr)
}

// session runs a model file by input/output names.
type session struct {
	s       *ort.DynamicAdvancedSession
	outputs []string
}

func openSession(t testing.TB, path string, inputs, outputs []string) *session {
	t.Helper()
	opts, err := ort.NewSessionOptions()
	if err != nil {
		t.Fatal(err)
	}
	defer opts.Destroy()
	if err := opts.SetIntraOpNumThreads(1); err != nil {
		t.Fatal(err)
	}
	s, err := ort.NewDynamicAdvancedSession(path, inputs, outputs, opts)
	if err != nil {
		t.Fatalf("open %s: %v", filepath.Base(path), err)
	}
	t.Cleanup(func() { s.Destroy() })
	return &session{s: s, outputs: outputs}
}

func (s *session) run(t testing.TB, inputs ...ort.Value) map[string]ort.Value {
	t.Helper()
	outs := make([]ort.Value, len(s.outputs))
	if err := s.s.Run(inputs, outs); err != nil {
		t.Fatal(err)
	}
	m := map[string]ort.Value{}
	for i, n := range s.outputs {
		m[n] = outs[i]
		v := outs[i]
		t.Cleanup(func() { v.Destroy() })
	}
	return m
}

func i64Tensor(t testing.TB, rows [][]int64) *ort.Tensor[int64] {
	t.Helper()
	var flat []int64
	for _, r := range rows {
		flat = append(flat, r...)
	}
	x, err := ort.NewTensor(ort.NewShape(int64(len(rows)), int64(len(rows[0]))), flat)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Destroy() })
	return x
}

func floats(v ort.Value) []float32 { return v.(*ort.Tensor[float32]).GetData() }

func maxDiff(a []float32, b []float64) float64 {
	d := 0.0
	for i := range a {
		d = math.Max(d, math.Abs(float64(a[i])-b[i]))
	}
	return d
}

func TestTinyBertMatchesReference(t *testing.T) {
	needORT(t)
	dir := t.TempDir()
	if err := WriteEncoder(dir, TinyEncoder); err != nil {
		t.Fatal(err)
	}
	m := newBert(TinyEncoder, len(wordPieceVocab()))
	s := openSession(t, filepath.Join(dir, "model.onnx"),
		[]string{"input_ids", "attention_mask", "token_type_ids"}, []string{"last_hidden_state"})
	// Row 1 is row 0 truncated and padded: real positions must not change.
	ids := [][]int64{{2, 40, 41, 300, 7, 3}, {2, 40, 41, 3, 0, 0}, {2, 900, 5, 1, 3, 0}}
	mask := [][]int64{{1, 1, 1, 1, 1, 1}, {1, 1, 1, 1, 0, 0}, {1, 1, 1, 1, 1, 0}}
	tt := [][]int64{{0, 0, 0, 1, 1, 1}, {0, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0}}
	out := s.run(t, i64Tensor(t, ids), i64Tensor(t, mask), i64Tensor(t, tt))["last_hidden_state"]
	shape := out.(*ort.Tensor[float32]).GetShape()
	h := TinyEncoder.Hidden
	if fmt.Sprint(shape) != fmt.Sprint([]int64{3, 6, int64(h)}) {
		t.Fatalf("shape %v", shape)
	}
	got := floats(out)
	worst := 0.0
	for b := range ids {
		ref := refBert(m, ids[b], mask[b], tt[b])
		for i := 0; i < len(ids[b]); i++ {
			if mask[b][i] == 0 {
				continue
			}
			row := got[(b*len(ids[b])+i)*h : (b*len(ids[b])+i+1)*h]
			d := maxDiff(row, ref.row(i))
			worst = math.Max(worst, d)
			if d > 1e-5 {
				t.Errorf("row %d position %d: max |ORT - reference| = %g", b, i, d)
			}
		}
	}
	t.Logf("max |ORT - reference| = %.3g", worst)
	// The outputs depend on the input: different tokens, different vectors.
	if maxDiff(got[:h], float64s(got[2*6*h:2*6*h+h])) == 0 {
		t.Errorf("identical CLS vectors for different inputs")
	}
}

func float64s(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}
