// Package pyref runs scripts/eval/xor_ref.py, the Python reference built on
// Debian's python3-nltk, so tests can compare the Go ports against the real
// NLTK and the official XOR-TyDi scoring logic.
package pyref

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/xqg/xqg/internal/testenv"
)

// Python is the interpreter with Debian's python3-nltk (the python3 on PATH
// may be a pyenv without it).
const Python = "/usr/bin/python3"

// RepoRoot finds the module root above the working directory.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
}

// Require skips t when python3-nltk is unavailable, or fails it under XQG_TEST_STRICT=1 (make test installs it).
func Require(t testing.TB) string {
	t.Helper()
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(Python, "-c", "import nltk").CombinedOutput(); err != nil {
		testenv.Missing(t, fmt.Sprintf("python3-nltk (%v: %s)", err, bytes.TrimSpace(out)), Python, "make test-deps")
	}
	return filepath.Join(root, "scripts", "eval", "xor_ref.py")
}

// Run runs the reference script with args and stdin and returns stdout.
func Run(t testing.TB, stdin []byte, args ...string) []byte {
	t.Helper()
	script := Require(t)
	cmd := exec.Command(Python, append([]string{script}, args...)...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("xor_ref.py %v: %v\n%s", args, err, stderr.String())
	}
	return stdout.Bytes()
}

// Lines encodes texts as one JSON string per line (the script's input).
func Lines(t testing.TB, texts []string) []byte {
	t.Helper()
	var b bytes.Buffer
	for _, s := range texts {
		j, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(j)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// DecodeLines decodes one JSON value per line into []T.
func DecodeLines[T any](t testing.TB, out []byte) []T {
	t.Helper()
	var res []T
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var v T
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("decoding reference output: %v", err)
		}
		res = append(res, v)
	}
	return res
}

// DataDir returns ../shared/data next to the repository root (it is never copied into the repository).
func DataDir(t testing.TB) string { return testenv.SharedData(t) }
