package tinymodels

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xqg/xqg/internal/onnx"
)

func TestCheck(t *testing.T) {
	encoder := func(t *testing.T, opts ...Option) string {
		dir := t.TempDir()
		if err := WriteEncoder(dir, TinyEncoder, opts...); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	seq2seq := func(t *testing.T, opts ...Option) string {
		dir := t.TempDir()
		if err := WriteSeq2Seq(dir, TinySeq2Seq, opts...); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	write := func(t *testing.T, path, content string) {
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	remove := func(t *testing.T, path string) {
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name  string
		setup func(t *testing.T) string
		kind  Kind
		file  string // "" = no problems expected
		msg   string
	}{
		{"encoder ok", func(t *testing.T) string { return encoder(t) }, KindEncoder, "", ""},
		{"encoder external data ok", func(t *testing.T) string { return encoder(t, WithExternalData()) }, KindEncoder, "", ""},
		{"seq2seq ok", func(t *testing.T) string { return seq2seq(t) }, KindSeq2Seq, "", ""},
		{"seq2seq merged only", func(t *testing.T) string { return seq2seq(t, WithLayout(LayoutMerged)) }, KindSeq2Seq, "", ""},
		{"seq2seq split only", func(t *testing.T) string { return seq2seq(t, WithLayout(LayoutSplit)) }, KindSeq2Seq, "", ""},
		{"missing tokenizer", func(t *testing.T) string {
			d := encoder(t)
			remove(t, filepath.Join(d, "tokenizer.json"))
			return d
		}, KindEncoder, "tokenizer.json", "missing"},
		{"missing decoder_with_past", func(t *testing.T) string {
			d := seq2seq(t, WithLayout(LayoutSplit))
			remove(t, filepath.Join(d, DecoderWithPastFile))
			return d
		}, KindSeq2Seq, DecoderWithPastFile, "missing"},
		{"missing encoder_model", func(t *testing.T) string {
			d := seq2seq(t, WithLayout(LayoutMerged))
			remove(t, filepath.Join(d, EncoderFile))
			return d
		}, KindSeq2Seq, EncoderFile, "missing"},
		{"missing external data", func(t *testing.T) string {
			d := encoder(t, WithExternalData())
			remove(t, filepath.Join(d, "model.onnx_data"))
			return d
		}, KindEncoder, "model.onnx_data", "missing"},
		{"wrong input name", func(t *testing.T) string {
			d := encoder(t)
			b := onnx.NewBuilder("g")
			ids := b.Input("ids", onnx.Int64, onnx.P("b"), onnx.P("s"))
			b.Input("attention_mask", onnx.Int64, onnx.P("b"), onnx.P("s"))
			emb := b.Initializer(&onnx.Tensor{Name: "e", Type: onnx.Float, Dims: []int64{4, 32}, Raw: make([]byte, 4*4*32)})
			b.Output(b.Op("Gather", []string{emb, ids}), "last_hidden_state", onnx.Float, onnx.P("b"), onnx.P("s"), onnx.D(32))
			if _, err := onnx.NewModel(b.G).WriteFile(filepath.Join(d, "model.onnx"), onnx.WriteOptions{}); err != nil {
				t.Fatal(err)
			}
			return d
		}, KindEncoder, "model.onnx", `no input named "input_ids"`},
		{"corrupt config", func(t *testing.T) string {
			d := seq2seq(t)
			write(t, filepath.Join(d, "config.json"), `{"model_type": "mt5", "d_model": 32,`)
			return d
		}, KindSeq2Seq, "config.json", "invalid JSON"},
		{"corrupt tokenizer", func(t *testing.T) string {
			d := encoder(t)
			write(t, filepath.Join(d, "tokenizer.json"), `{"model": {"type": "WordPiece", "vocab": 7}}`)
			return d
		}, KindEncoder, "tokenizer.json", "does not load"},
		{"truncated onnx", func(t *testing.T) string {
			d := seq2seq(t)
			p := filepath.Join(d, DecoderFile)
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			write(t, p, string(b[:len(b)/2]))
			return d
		}, KindSeq2Seq, DecoderFile, "unreadable"},
		{"corrupt pooling", func(t *testing.T) string {
			d := encoder(t)
			write(t, filepath.Join(d, "1_Pooling", "config.json"), `{"pooling_mode_max_tokens": true}`)
			return d
		}, KindEncoder, "1_Pooling/config.json", "not supported"},
		{"empty folder", func(t *testing.T) string { return t.TempDir() }, KindUnknown, "model.onnx", "missing"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := c.setup(t)
			r, err := Check(dir)
			if err != nil {
				t.Fatal(err)
			}
			if r.Kind != c.kind {
				t.Errorf("kind %s, want %s", r.Kind, c.kind)
			}
			if c.file == "" {
				if r.Err() != nil {
					t.Fatalf("unexpected problems: %v", r.Err())
				}
				if len(r.Checked) < 3 {
					t.Errorf("checked only %v", r.Checked)
				}
				return
			}
			err = r.Err()
			if err == nil {
				t.Fatalf("no problem reported, want %s: %s", c.file, c.msg)
			}
			found := false
			for _, p := range r.Problems {
				if filepath.ToSlash(p.File) == c.file && strings.Contains(p.Msg, c.msg) {
					found = true
				}
			}
			if !found {
				t.Errorf("want a problem %s: …%s…; got %v", c.file, c.msg, err)
			}
		})
	}
}
