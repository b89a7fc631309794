package integration

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xqg/xqg/collection"
	"github.com/xqg/xqg/eval"
	"github.com/xqg/xqg/eval/weaviateeval"
	"github.com/xqg/xqg/ingest"
	"github.com/xqg/xqg/internal/testenv"
	"github.com/xqg/xqg/plugin/plugintest"
)

// The whole evaluation on XQuAD with the tiny models: real weaviate-server, xqg serve and plugin
// (with the tiny generator, so the xqg vector is fused), 30 English paragraphs ingested on the fast
// path, the ar and ru questions about them run as nearText on both named vectors. The numbers mean
// nothing; the pipeline is real, and the report must be complete and well-formed.
func TestEvalXQuADEndToEnd(t *testing.T) {
	data := filepath.Join(testenv.SharedData(t), "xquad")
	start := time.Now()
	svc, cfg := startService(t, true)
	srv := serviceWeaviate(t, svc)
	ctx := ctxT(t, 3*time.Minute)
	phase := func(what string) { t.Logf("%s at %s", what, time.Since(start).Round(time.Millisecond)) }

	phase("started")
	d, err := weaviateeval.LoadDataset(weaviateeval.Source{Kind: weaviateeval.XQuAD, Dir: data, Langs: []string{"ar", "ru"}})
	if err != nil {
		t.Fatal(err)
	}
	d = weaviateeval.Limit(d, 30, 0)
	if len(d.Corpus) != 30 || len(d.Queries) < 60 {
		t.Fatalf("subset: %d passages, %d queries", len(d.Corpus), len(d.Queries))
	}
	w := weaviateConfig(srv, "EvalXQuAD")
	w.ServiceURL = svc.URL()
	c := connect(t, w, true)
	h := plugintest.Start(t, cfg, nil)
	opts := weaviateeval.CorpusOptions{Client: c, Spec: collection.SpecFromConfig(w), Embedder: ingest.PluginEmbedder{V: h},
		Dir: t.TempDir(), BatchSize: 16}
	res, err := weaviateeval.IngestCorpus(ctx, d.Name, d.Corpus, opts)
	if err != nil || res.Skipped || res.Summary.Imported != 30 {
		t.Fatalf("ingest: %+v %v", res, err)
	}
	if again, err := weaviateeval.IngestCorpus(ctx, d.Name, d.Corpus, opts); err != nil || !again.Skipped || again.Present != 30 {
		t.Errorf("second ingest of the same corpus: %+v %v", again, err)
	}

	phase("ingested")
	r := &weaviateeval.Retriever{Client: c, Collection: w.Collection}
	const k = 20
	rep, err := eval.Evaluate(ctx, r, d.Name, d.Queries, eval.Config{Targets: []string{collection.VectorXQG, collection.VectorPassage},
		K: k, RecallKs: []int{1, 5, 10}, PermRounds: 2000, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rep.Langs, ",") != "ar,ru" || len(rep.Targets) != 2 {
		t.Fatalf("langs %v, %d targets", rep.Langs, len(rep.Targets))
	}
	wantMetrics := []string{"R@2kt", "R@5kt", "Recall@1", "Recall@5", "Recall@10", eval.MetricMRR, eval.MetricNDCG}
	if strings.Join(rep.Metrics, ",") != strings.Join(wantMetrics, ",") {
		t.Errorf("metrics %v, want %v", rep.Metrics, wantMetrics)
	}
	perLang := map[string]int{}
	for _, q := range d.Queries {
		perLang[q.Lang]++
	}
	for _, tr := range rep.Targets {
		run := rep.Runs[tr.Target]
		if len(run) != len(d.Queries) {
			t.Errorf("%s: %d run entries for %d queries", tr.Target, len(run), len(d.Queries))
		}
		for i, e := range run {
			// Every query answered, with k hits (the corpus holds more than k passages).
			if e.ID != d.Queries[i].ID || len(e.Ctxs) != k {
				t.Errorf("%s: run[%d] = %s with %d passages, want %s with %d", tr.Target, i, e.ID, len(e.Ctxs), d.Queries[i].ID, k)
				break
			}
		}
		for _, m := range rep.Metrics {
			for _, l := range rep.Langs {
				v, ok := tr.PerLang[m][l]
				if !ok || v < 0 || v > 100 || math.IsNaN(v) {
					t.Errorf("%s %s %s = %v (present %v)", tr.Target, m, l, v, ok)
				}
				// Relevance metrics score every query; R@kt drops none (XQuAD has no yes/no answers).
				if n := tr.Count[m][l]; n != perLang[l] {
					t.Errorf("%s %s %s scored %d queries, want %d", tr.Target, m, l, n, perLang[l])
				}
			}
			if v := tr.Macro[m]; v < 0 || v > 100 || math.IsNaN(v) {
				t.Errorf("%s macro %s = %v", tr.Target, m, v)
			}
		}
		// With 30 passages and k=20, R@5kt covers far more text than one paragraph: most answers appear.
		if tr.Macro["R@5kt"] < tr.Macro["Recall@1"] {
			t.Errorf("%s: R@5kt %.1f below Recall@1 %.1f", tr.Target, tr.Macro["R@5kt"], tr.Macro["Recall@1"])
		}
	}
	if len(rep.Significance) != len(rep.Metrics) {
		t.Errorf("%d significance tests for %d metrics", len(rep.Significance), len(rep.Metrics))
	}
	for _, s := range rep.Significance {
		if s.A != collection.VectorXQG || s.B != collection.VectorPassage || s.Perm.P <= 0 || s.Perm.P > 1 || math.IsNaN(s.TTest.P) {
			t.Errorf("significance %+v", s)
		}
	}
	phase("evaluated")
	out := t.TempDir()
	files, err := weaviateeval.WriteOutputs(out, rep)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"report.json", "report.md", "run.xqg.json", "run.passage.json", "per-language-R_at_2kt.png", "per-language-nDCG_at_10.svg"} {
		if st, err := os.Stat(filepath.Join(out, name)); err != nil || st.Size() == 0 {
			t.Errorf("%s not written: %v (files %v)", name, err, files)
		}
	}
	// The written run is the official submission format and scores like the report.
	run, err := eval.LoadRun(filepath.Join(out, "run.xqg.json"))
	if err != nil {
		t.Fatal(err)
	}
	scored := eval.NewXORScorer(nil).Score(run, d.Answers(), []int{2000}, 2)
	if got, want := scored[0].Macro, rep.Targets[0].Macro["R@2kt"]; math.Abs(got-want) > 1e-9 {
		t.Errorf("run.xqg.json scores R@2kt %.4f, report says %.4f", got, want)
	}
	var js struct {
		Targets []struct {
			Target string `json:"target"`
		} `json:"targets"`
	}
	if b, err := os.ReadFile(filepath.Join(out, "report.json")); err != nil || json.Unmarshal(b, &js) != nil || len(js.Targets) != 2 {
		t.Errorf("report.json: %v", err)
	}

	phase("written")
	// The CLI: eval corpus (via Weaviate) into its own collection, then eval run on it.
	cliArgs := func(args ...string) []string {
		return append([]string{"--config", svc.config, "--set", "weaviate.url=" + srv.URL(), "--set", "weaviate.grpc_address=" + srv.GRPCAddr(),
			"--set", "weaviate.service_url=" + svc.URL(), "--set", "weaviate.collection=EvalCLI",
			"--dataset", "xquad", "--data", data, "--lang", "ru", "--max-passages", "25", "--max-queries", "12"}, args...)
	}
	xqg := func(args ...string) (string, int) {
		cmd := exec.CommandContext(ctx, svc.bin, args...)
		cmd.Env = append(os.Environ(), "XQG_CONFIG=")
		var buf bytes.Buffer
		cmd.Stdout, cmd.Stderr = &buf, &buf
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return buf.String(), code
	}
	cliOut := t.TempDir()
	work := t.TempDir()
	if o, code := xqg(append([]string{"eval", "corpus"}, cliArgs("--via-weaviate", "--work-dir", work)...)...); code != 0 || !strings.Contains(o, "imported 25") {
		t.Fatalf("eval corpus exited %d:\n%s", code, o)
	}
	if o, code := xqg(append([]string{"eval", "run"}, cliArgs("--ingest", "--via-weaviate", "--work-dir", work, "--out", cliOut, "-k", "10", "--perm-rounds", "500")...)...); code != 0 ||
		!strings.Contains(o, "already holds 25") || !strings.Contains(o, "| ru |") || !strings.Contains(o, "Paired significance") {
		t.Fatalf("eval run exited %d:\n%s", code, o)
	}
	phase("cli run")
	for _, name := range []string{"report.json", "report.md", "run.xqg.json", "run.passage.json", "per-language-MRR_at_10.png"} {
		if _, err := os.Stat(filepath.Join(cliOut, name)); err != nil {
			t.Errorf("xqg eval run did not write %s", name)
		}
	}
	if o, code := xqg(append([]string{"eval", "run"}, cliArgs("--out", cliOut, "--targets", "bogus")...)...); code != 2 {
		t.Errorf("--targets bogus exited %d, want 2:\n%s", code, o)
	}
	if o, code := xqg(append([]string{"eval", "run"}, cliArgs("--collection", "Missing", "--out", cliOut)...)...); code != 1 || !strings.Contains(o, "missing or empty") {
		t.Errorf("eval run on a missing collection exited %d:\n%s", code, o)
	}
}
