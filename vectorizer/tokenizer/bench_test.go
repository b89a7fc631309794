package tokenizer

import (
	"bytes"
	"io"
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

// benchEncode reports sentences per wall second and per CPU second of the
// process. On a shared machine the wall figure moves with the load; the CPU
// figure (GC included) is the one to compare across runs, and
// BenchmarkSPMEncodeCPP reports the same pair for the C++ encoder.
func benchEncode(b *testing.B, tk *Tokenizer) {
	lines := benchLines(b)
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu0 := time.Now(), processCPU()
	for i := 0; i < b.N; i++ {
		tk.Encode(lines[i%len(lines)], true)
	}
	wall, cpu := time.Since(start), processCPU()-cpu0
	b.ReportMetric(float64(b.N)/wall.Seconds(), "sentences/s")
	if cpu > 0 {
		b.ReportMetric(float64(b.N)/cpu.Seconds(), "sentences/cpu-s")
	}
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
// iteration encodes every line 40 times in one process; its start and model
// load are included but amortized over the 80,000 lines. The child inherits
// the benchmark's CPU affinity, so `taskset -c N go test ...` pins both to
// the same core.
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
	var total, cpu time.Duration
	for i := 0; i < b.N; i++ {
		cmd := exec.Command(bin, "--model", model, "--output_format=id")
		cmd.Stdin = bytes.NewReader(in.Bytes())
		var stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = io.Discard, &stderr
		start := time.Now()
		if err := cmd.Run(); err != nil {
			b.Fatalf("spm_encode: %v: %s", err, stderr.Bytes()[:min(stderr.Len(), 200)])
		}
		total += time.Since(start)
		cpu += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	n := float64(b.N * copies * len(lines))
	b.ReportMetric(n/total.Seconds(), "sentences/s")
	if cpu > 0 {
		b.ReportMetric(n/cpu.Seconds(), "sentences/cpu-s")
	}
}
