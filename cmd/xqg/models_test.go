package main

import (
	"os"
	"path/filepath"
	"testing"
)

func TestModelsTinyAndCheck(t *testing.T) {
	out := t.TempDir()
	if got := run([]string{"models", "tiny", "--out", out}); got != 0 {
		t.Fatalf("models tiny exited %d", got)
	}
	enc, s2s := filepath.Join(out, "encoder"), filepath.Join(out, "seq2seq")
	merged := filepath.Join(t.TempDir(), "merged")
	if got := run([]string{"models", "tiny", "--out", merged, "--layout", "merged", "--pooling", "cls"}); got != 0 {
		t.Fatalf("models tiny --layout merged exited %d", got)
	}
	broken := filepath.Join(t.TempDir(), "broken")
	if got := run([]string{"models", "tiny", "--out", broken}); got != 0 {
		t.Fatal(got)
	}
	if err := os.Remove(filepath.Join(broken, "seq2seq", "decoder_with_past_model.onnx")); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(broken, "seq2seq", "decoder_model_merged.onnx")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"check encoder", []string{"models", "check", enc}, 0},
		{"check seq2seq", []string{"models", "check", s2s}, 0},
		{"check merged-only seq2seq", []string{"models", "check", filepath.Join(merged, "seq2seq")}, 0},
		{"check broken", []string{"models", "check", filepath.Join(broken, "seq2seq")}, 1},
		{"check missing folder", []string{"models", "check", filepath.Join(out, "nope")}, 2},
		{"check without folder", []string{"models", "check"}, 2},
		{"tiny without --out", []string{"models", "tiny"}, 2},
		{"unknown shape", []string{"models", "tiny", "--out", out, "--shape", "gpt-5"}, 2},
		{"unknown layout", []string{"models", "tiny", "--out", out, "--layout", "zigzag"}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := run(tt.args); got != tt.want {
				t.Errorf("xqg %v exited %d, want %d", tt.args, got, tt.want)
			}
		})
	}
}
