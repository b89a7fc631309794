package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xqg/xqg/vectorizer/tokenizer"
)

func TestTokenizeCmd(t *testing.T) {
	dir := t.TempDir()
	var b bytes.Buffer
	vocab := []string{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world", "!"}
	if err := tokenizer.WriteWordPieceJSON(&b, vocab); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "tokenizer.json")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		in   string
		want string
	}{
		{[]string{"--tokenizer", path}, "Hello world!\n\nzzz", "[2,5,6,7,3]\n[2,3]\n[2,1,3]\n"},
		{[]string{"--tokenizer", path, "--tokens"}, "hello\n", "[\"[CLS]\",\"hello\",\"[SEP]\"]\n"},
		{[]string{"--tokenizer", path, "--no-special"}, "world\r\n", "[6]\n"},
	}
	for _, tc := range tests {
		cmd := newTokenizeCmd()
		var out bytes.Buffer
		cmd.SetIn(strings.NewReader(tc.in))
		cmd.SetOut(&out)
		cmd.SetArgs(tc.args)
		if err := cmd.Execute(); err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		if out.String() != tc.want {
			t.Errorf("%v on %q = %q, want %q", tc.args, tc.in, out.String(), tc.want)
		}
	}
}

func TestTokenizeCmdBadTokenizer(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"model":{"type":"Foo"}}`), 0o644)
	for _, args := range [][]string{{}, {"--tokenizer", bad}, {"--tokenizer", filepath.Join(dir, "missing.json")}} {
		cmd := newTokenizeCmd()
		cmd.SetIn(strings.NewReader("x\n"))
		cmd.SetOut(&bytes.Buffer{})
		cmd.SetArgs(args)
		err := cmd.Execute()
		var u usage
		if err == nil || !errors.As(err, &u) {
			t.Errorf("%v: error %v, want a usage error", args, err)
		}
	}
}
