package tokenizer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/xqg/xqg/internal/cachedir"
	"github.com/xqg/xqg/internal/testenv"
)

// minAgreement is the required share of lines with identical ids.
const minAgreement = 0.999

func fixtures(tb testing.TB) string {
	tb.Helper()
	d := cachedir.Sub("tokenizer-fixtures")
	if _, err := os.Stat(filepath.Join(d, "STAMP")); err != nil {
		testenv.Missing(tb, "tokenizer reference fixtures", d, "make tokenizer-fixtures")
	}
	return d
}

func readLines(tb testing.TB, path string) []string {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	s := strings.TrimSuffix(string(b), "\n")
	return strings.Split(s, "\n")
}

// readSPMIDs parses spm_encode --output_format=id output.
func readSPMIDs(tb testing.TB, path string) [][]int {
	tb.Helper()
	var out [][]int
	for _, l := range readLines(tb, path) {
		ids := []int{}
		for _, f := range strings.Fields(l) {
			n, err := strconv.Atoi(f)
			if err != nil {
				tb.Fatalf("%s: %v", path, err)
			}
			ids = append(ids, n)
		}
		out = append(out, ids)
	}
	return out
}

// readJSONIDs parses one JSON array per line (hf_encode.mjs output).
func readJSONIDs(tb testing.TB, path string) [][]int {
	tb.Helper()
	var out [][]int
	for i, l := range readLines(tb, path) {
		ids := []int{}
		if err := json.Unmarshal([]byte(l), &ids); err != nil {
			tb.Fatalf("%s:%d: %v", path, i+1, err)
		}
		out = append(out, ids)
	}
	return out
}

func compareIDs(t *testing.T, tk *Tokenizer, lines []string, want [][]int, special bool) {
	t.Helper()
	if len(want) != len(lines) {
		t.Fatalf("reference has %d lines, text has %d", len(want), len(lines))
	}
	diff := 0
	for i, l := range lines {
		got := tk.Encode(l, special).IDs
		if !reflect.DeepEqual(got, want[i]) {
			diff++
			e := tk.Encode(l, special)
			t.Logf("line %d differs: %q\n  got  %v %q\n  want %v", i+1, l, got, e.Tokens, want[i])
		}
	}
	agree := 1 - float64(diff)/float64(len(lines))
	msg := fmt.Sprintf("%d/%d lines identical (%.3f%%)", len(lines)-diff, len(lines), 100*agree)
	if agree < minAgreement {
		t.Errorf("%s, need %.1f%%", msg, 100*minAgreement)
	} else {
		t.Log(msg)
	}
}

// TestParitySentencePiece compares LoadFile(.model) with spm_encode (C++).
func TestParitySentencePiece(t *testing.T) {
	d := fixtures(t)
	lines := readLines(t, filepath.Join(d, "lines.txt"))
	for _, m := range []string{"multi8k", "multi4k-bytes", "albert", "xlnet"} {
		t.Run(m, func(t *testing.T) {
			tk, err := LoadFile(filepath.Join(d, m+".model"))
			if err != nil {
				t.Fatal(err)
			}
			compareIDs(t, tk, lines, readSPMIDs(t, filepath.Join(d, "ref", m+".spm.ids")), false)
		})
	}
}

// TestParityHuggingFace compares tokenizer.json pipelines with
// @huggingface/tokenizers (JavaScript): two real BERT files and the
// tokenizer.json conversions of the SentencePiece models with NFKC in place
// of Precompiled (the JavaScript package does not read the charsmap; the
// charsmap is checked against spm_encode instead).
func TestParityHuggingFace(t *testing.T) {
	d := fixtures(t)
	lines := readLines(t, filepath.Join(d, "lines.txt"))
	for _, m := range []string{"bert-base-uncased", "all-minilm-l6-v2", "multi8k-nfkc", "albert-nfkc", "xlnet-nfkc"} {
		t.Run(m, func(t *testing.T) {
			tk, err := LoadFile(filepath.Join(d, m+".json"))
			if err != nil {
				t.Fatal(err)
			}
			// The JavaScript reference applies neither padding nor
			// truncation from tokenizer.json.
			tk = tk.WithPadding(nil).WithTruncationConfig(nil)
			compareIDs(t, tk, lines, readJSONIDs(t, filepath.Join(d, "ref", m+".hf.ids")), true)
		})
	}
}

// TestConvertedMatchesSentencePiece checks the converter: its tokenizer.json
// must tokenize like spm_encode too.
func TestConvertedMatchesSentencePiece(t *testing.T) {
	d := fixtures(t)
	lines := readLines(t, filepath.Join(d, "lines.txt"))
	for _, m := range []string{"multi8k", "multi4k-bytes", "albert", "xlnet"} {
		t.Run(m, func(t *testing.T) {
			model, err := os.ReadFile(filepath.Join(d, m+".model"))
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if err := ConvertSentencePiece(&b, model); err != nil {
				t.Fatal(err)
			}
			tk, err := Load(&b)
			if err != nil {
				t.Fatal(err)
			}
			compareIDs(t, tk, lines, readSPMIDs(t, filepath.Join(d, "ref", m+".spm.ids")), false)
		})
	}
}

// filepathOrEmpty returns the fixture folder when it exists, without
// failing or skipping.
func filepathOrEmpty() string {
	d := cachedir.Sub("tokenizer-fixtures")
	if _, err := os.Stat(filepath.Join(d, "STAMP")); err != nil {
		return ""
	}
	return d
}
