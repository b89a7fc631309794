package tokenizer

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/xqg/xqg/internal/testenv"
)

// benchLines returns ~80-character lines from NTREX-128 in the eight
// languages, interleaved.
func benchLines(b *testing.B) []string {
	b.Helper()
	dir := filepath.Join(testenv.RepoRoot(), "..", "shared", "data", "ntrex-128")
	files, _ := filepath.Glob(filepath.Join(dir, "newstest2019-*.txt"))
	if len(files) == 0 {
		testenv.Missing(b, "NTREX-128", dir, "the shared data checkout")
	}
	var per [][]string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		var ls []string
		for _, l := range strings.Split(string(data), "\n") {
			l = strings.TrimSpace(l)
			if utf8.RuneCountInString(l) < 80 {
				continue
			}
			n := 0
			for i := range l {
				if n == 80 {
					l = l[:i]
					break
				}
				n++
			}
			ls = append(ls, l)
			if len(ls) == 250 {
				break
			}
		}
		per = append(per, ls)
	}
	var out []string
	for i := 0; i < 250; i++ {
		for _, ls := range per {
			if i < len(ls) {
				out = append(out, ls[i])
			}
		}
	}
	return out
}

func benchEncode(b *testing.B, tk *Tokenizer) {
	lines := benchLines(b)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		tk.Encode(lines[i%len(lines)], true)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "sentences/s")
}

func loadFixture(b *testing.B, name string) *Tokenizer {
	tk, err := LoadFile(filepath.Join(fixtures(b), name))
	if err != nil {
		b.Fatal(err)
	}
	return tk
}

// BenchmarkUnigramSPM: the .model pipeline (SentencePiece semantics).
func BenchmarkUnigramSPM(b *testing.B) { benchEncode(b, loadFixture(b, "multi8k.model")) }

// BenchmarkUnigramJSON: the tokenizer.json pipeline (Precompiled, Strip,
// Replace, Metaspace, Unigram).
func BenchmarkUnigramJSON(b *testing.B) { benchEncode(b, loadFixture(b, "multi8k.json")) }

// BenchmarkWordPiece: bert-base-uncased.json (BertNormalizer,
// BertPreTokenizer, WordPiece, TemplateProcessing).
func BenchmarkWordPiece(b *testing.B) { benchEncode(b, loadFixture(b, "bert-base-uncased.json")) }

// BenchmarkSPMEncodeCPP times the C++ spm_encode on the same lines in the
// same run, so the ratio to BenchmarkUnigramSPM can be reported. One
// iteration encodes every line once; the process start is included but
// amortized over 40 copies of the lines.
func BenchmarkSPMEncodeCPP(b *testing.B) {
	bin, err := exec.LookPath("spm_encode")
	if err != nil {
		testenv.Missing(b, "spm_encode", "$PATH", "apt-get install -y sentencepiece")
	}
	model := filepath.Join(fixtures(b), "multi8k.model")
	lines := benchLines(b)
	var in bytes.Buffer
	const copies = 40
	for k := 0; k < copies; k++ {
		for _, l := range lines {
			in.WriteString(l)
			in.WriteByte('\n')
		}
	}
	b.ResetTimer()
	var total time.Duration
	for i := 0; i < b.N; i++ {
		cmd := exec.Command("taskset", "-c", "0", bin, "--model", model, "--output_format=id")
		cmd.Stdin = bytes.NewReader(in.Bytes())
		start := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("spm_encode: %v: %s", err, out[:min(len(out), 200)])
		}
		total += time.Since(start)
	}
	b.ReportMetric(float64(b.N*copies*len(lines))/total.Seconds(), "sentences/s")
}
