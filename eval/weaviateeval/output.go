package weaviateeval

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/xqg/xqg/eval"
)

// WriteOutputs writes an evaluation's files into dir and returns their paths: report.json,
// report.md, one run.<target>.json per target in the official XOR-Retrieve submission format
// ([{"id","lang","ctxs":[...]}], scorable by eval_xor_retrieve.py and `xqg eval score`), and a
// per-language bar chart (PNG and SVG) per metric.
func WriteOutputs(dir string, rep *eval.Report) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var files []string
	write := func(name string, b []byte) error {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return err
		}
		files = append(files, p)
		return nil
	}
	var js bytes.Buffer
	if err := rep.WriteJSON(&js); err != nil {
		return nil, err
	}
	if err := write("report.json", js.Bytes()); err != nil {
		return nil, err
	}
	if err := write("report.md", []byte(rep.Markdown())); err != nil {
		return nil, err
	}
	for _, t := range rep.Targets {
		var b bytes.Buffer
		if err := eval.WriteRun(&b, rep.Runs[t.Target]); err != nil {
			return nil, err
		}
		if err := write("run."+t.Target+".json", b.Bytes()); err != nil {
			return nil, err
		}
	}
	if len(rep.Langs) > 0 {
		for _, m := range rep.Metrics {
			cs, err := rep.LanguageBars(dir, m)
			if err != nil {
				return nil, fmt.Errorf("chart %s: %w", m, err)
			}
			files = append(files, cs...)
		}
	}
	return files, nil
}
