package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/xqg/xqg/plugin/plugintest"
)

// TestMain removes the plugin binary plugintest builds for these tests.
func TestMain(m *testing.M) { os.Exit(plugintest.Main(m)) }

// embedArgs are the --set flags that point xqg at the tiny models and a freshly built plugin.
func embedArgs(t *testing.T, withGenerator bool) []string {
	c := plugintest.Tiny(t, withGenerator)
	args := []string{
		"--set", "plugin.path=" + plugintest.Binary(t),
		"--set", "encoder.model_dir=" + c.Encoder.ModelDir,
		"--set", "ort.library_path=" + c.ORT.LibraryPath,
		"--set", "cache.dir=" + c.Cache.Dir,
		"--set", "encoder.threads=1",
	}
	if withGenerator {
		args = append(args,
			"--set", "generator.model_dir="+c.Generator.ModelDir,
			"--set", "generator.queries_per_language=2",
			"--set", "generator.max_new_tokens=4",
			"--set", "generator.threads=1")
	}
	return args
}

func runEmbed(t *testing.T, stdin string, args ...string) ([]embedOutput, error) {
	t.Helper()
	t.Setenv("XQG_CONFIG", "")
	root := newRootCmd()
	var out bytes.Buffer
	root.SetArgs(append([]string{"embed"}, args...))
	root.SetIn(strings.NewReader(stdin))
	root.SetOut(&out)
	root.SetErr(&bytes.Buffer{})
	err := root.Execute()
	var res []embedOutput
	dec := json.NewDecoder(&out)
	for dec.More() {
		var o embedOutput
		if derr := dec.Decode(&o); derr != nil {
			t.Fatalf("output is not JSONL: %v\n%s", derr, out.String())
		}
		res = append(res, o)
	}
	return res, err
}

const alpha = 0.01 // augment.alpha's default

func checkFusion(t *testing.T, o embedOutput) {
	t.Helper()
	if len(o.PassageVector) == 0 || len(o.Vector) != len(o.PassageVector) {
		t.Fatalf("%s: vector %d dims, passage_vector %d", o.ID, len(o.Vector), len(o.PassageVector))
	}
	worst := 0.0
	for i := range o.Vector {
		s := 0.0
		for _, vs := range o.QueryVectors {
			for _, v := range vs {
				s += float64(v[i])
			}
		}
		want := (1-alpha)*float64(o.PassageVector[i]) + alpha*s
		worst = math.Max(worst, math.Abs(float64(o.Vector[i])-want))
	}
	if worst > 1e-5 {
		t.Errorf("%s: vector != (1-α)·passage_vector + α·Σ query_vectors, off by %g", o.ID, worst)
	}
	for lang, qs := range o.Queries {
		if len(o.QueryVectors[lang]) != len(qs) {
			t.Errorf("%s: %d %s queries but %d vectors", o.ID, len(qs), lang, len(o.QueryVectors[lang]))
		}
	}
}

func TestEmbedParts(t *testing.T) {
	in := `{"id":"p1","title":"Tokyo","text":"Tokyo is the capital of Japan.","generated_queries":{"ja":["what is the capital of Japan","where is Tokyo"],"fi":["mikä on Japanin pääkaupunki"]}}
A plain line of text about cats.
{"id":"p3","text":"   "}
{"id": 4, "text": "Helsinki is in Finland.", "generated_queries": {"fi": ["missä on Helsinki"]}}
{"id":"p5","text":
`
	res, err := runEmbed(t, in, append(embedArgs(t, false), "--parts")...)
	var failed errItemsFailed
	if !errors.As(err, &failed) || failed.n != 2 {
		t.Fatalf("err = %v, want 2 failed items (exit status 1)", err)
	}
	if len(res) != 5 {
		t.Fatalf("%d output lines for 5 input lines", len(res))
	}
	for i, id := range []string{"p1", "2", "p3", "4", "5"} {
		if res[i].ID != id {
			t.Errorf("line %d: id %q, want %q", i+1, res[i].ID, id)
		}
	}
	checkFusion(t, res[0])
	checkFusion(t, res[3])
	if n := len(res[0].Queries["ja"]) + len(res[0].Queries["fi"]); n != 3 {
		t.Errorf("p1: %d queries, want the 3 given", n)
	}
	if res[2].Error == "" || !strings.Contains(res[2].Error, "text is empty") || res[2].Vector != nil {
		t.Errorf("blank text: %+v, want an error saying the text is empty", res[2])
	}
	if !strings.Contains(res[4].Error, "line 5") || !strings.Contains(res[4].Error, "invalid JSON") {
		t.Errorf("broken JSON: error %q, want it to name line 5", res[4].Error)
	}

	// The query path gives the same vectors as the parts' query_vectors for the same texts.
	qs, err := runEmbed(t, "where is Tokyo\nmissä on Helsinki\n", append(embedArgs(t, false), "--task", "query")...)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range [][]float32{res[0].QueryVectors["ja"][1], res[3].QueryVectors["fi"][0]} {
		for k := range want {
			if math.Abs(float64(qs[i].Vector[k]-want[k])) > 1e-6 {
				t.Fatalf("query %d: --task query differs from the passage's query_vectors at %d", i, k)
			}
		}
	}
}

func TestEmbedGenerated(t *testing.T) {
	args := embedArgs(t, true)
	res, err := runEmbed(t, `{"id":"g","title":"Tokyo","text":"Tokyo is the capital of Japan."}`+"\n", append(args, "--parts")...)
	if err != nil {
		t.Fatal(err)
	}
	o := res[0]
	for _, lang := range []string{"ar", "bn", "fi", "ja", "ko", "ru", "te"} {
		if len(o.Queries[lang]) != 2 {
			t.Errorf("%s: %d generated queries, want generator.queries_per_language=2", lang, len(o.Queries[lang]))
		}
	}
	checkFusion(t, o)
}

func TestEmbedUsage(t *testing.T) {
	for _, args := range [][]string{{"--task", "title"}, {"--task", "query", "--parts"}, {"--batch", "-1"}} {
		_, err := runEmbed(t, "", args...)
		var u usage
		if !errors.As(err, &u) {
			t.Errorf("xqg embed %v: %v, want a usage error", args, err)
		}
	}
}

// TestEmbedSignalStopsPlugin runs xqg embed as a process with its stdin left open, sends it SIGTERM
// or SIGINT, and checks that it exits promptly and its plugin process is gone with it.
func TestEmbedSignalStopsPlugin(t *testing.T) {
	args := embedArgs(t, false)
	xqg := filepath.Join(t.TempDir(), "xqg")
	build := exec.Command("go", "build", "-o", xqg, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd := exec.Command(xqg, append([]string{"embed", "--task", "query"}, args...)...)
			cmd.Env = append(os.Environ(), "XQG_CONFIG=")
			stdin, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			defer stdin.Close()
			// One answered line proves the plugin is up; stdin stays open, so embed waits for more.
			if _, err := io.WriteString(stdin, "where is Helsinki\n"); err != nil {
				t.Fatal(err)
			}
			if _, err := bufio.NewReader(stdout).ReadString('\n'); err != nil {
				t.Fatalf("no output line: %v", err)
			}
			plugins := children(cmd.Process.Pid)
			if len(plugins) != 1 {
				t.Fatalf("xqg embed has children %v, want its one plugin", plugins)
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			select {
			case err := <-exited:
				if err == nil {
					t.Error("interrupted embed exited 0")
				}
			case <-time.After(15 * time.Second):
				t.Fatalf("xqg embed still running 15s after %v", sig)
			}
			if _, err := os.Stat(fmt.Sprintf("/proc/%d", plugins[0])); err == nil {
				if st, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", plugins[0])); !strings.Contains(string(st), ") Z") {
					t.Errorf("plugin %d outlived xqg embed stopped by %v", plugins[0], sig)
				}
			}
		})
	}
}

// children lists the child processes of pid (all its threads').
func children(pid int) []int {
	var out []int
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	for _, f := range tasks {
		data, _ := os.ReadFile(f)
		for _, s := range strings.Fields(string(data)) {
			if n, err := strconv.Atoi(s); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}
