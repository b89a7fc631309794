package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "xqg.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPrecedence(t *testing.T) {
	file := writeFile(t, "augment:\n  alpha: 0.2\nmodule:\n  batch_size: 8\nweaviate:\n  hnsw:\n    efConstruction: 64\n")
	tests := []struct {
		name      string
		env       []string
		overrides map[string]string
		wantAlpha float64
		wantSrc   Source
	}{
		{"file over default", nil, nil, 0.2, SourceFile},
		{"env over file", []string{"XQG_AUGMENT_ALPHA=0.3"}, nil, 0.3, SourceEnv},
		{"flag over env", []string{"XQG_AUGMENT_ALPHA=0.3"}, map[string]string{"augment.alpha": "0.4"}, 0.4, SourceFlag},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := Load(Options{File: file, Environ: tt.env, Overrides: tt.overrides})
			if err != nil {
				t.Fatal(err)
			}
			if l.Config.Augment.Alpha != tt.wantAlpha {
				t.Errorf("alpha = %v, want %v", l.Config.Augment.Alpha, tt.wantAlpha)
			}
			if got := l.Sources["augment.alpha"]; got != tt.wantSrc {
				t.Errorf("source = %s, want %s", got, tt.wantSrc)
			}
			if l.Config.Module.BatchSize != 8 || l.Sources["module.batch_size"] != SourceFile {
				t.Errorf("module.batch_size = %d from %s, want 8 from file", l.Config.Module.BatchSize, l.Sources["module.batch_size"])
			}
			if l.Config.Weaviate.HNSW.EFConstruction != 64 {
				t.Errorf("camelCase key from file: efConstruction = %d, want 64", l.Config.Weaviate.HNSW.EFConstruction)
			}
			if l.Config.Encoder.MaxLength != 256 || l.Sources["encoder.max_length"] != SourceDefault {
				t.Errorf("default lost: encoder.max_length = %d from %s", l.Config.Encoder.MaxLength, l.Sources["encoder.max_length"])
			}
		})
	}
}

func TestEnvironmentTypes(t *testing.T) {
	l, err := Load(Options{Environ: []string{
		"XQG_GENERATOR_LANGUAGES=ar,ja",
		"XQG_MODULE_BATCH_WAIT=20ms",
		"XQG_ENCODER_NORMALIZE=true",
		"XQG_WEAVIATE_SHARDING_DESIREDCOUNT=3",
	}})
	if err != nil {
		t.Fatal(err)
	}
	c := l.Config
	if strings.Join(c.Generator.Languages, ",") != "ar,ja" {
		t.Errorf("languages = %v", c.Generator.Languages)
	}
	if c.Module.BatchWait != 20*time.Millisecond || !c.Encoder.Normalize || c.Weaviate.Sharding.DesiredCount != 3 {
		t.Errorf("env not applied: %+v %+v %+v", c.Module, c.Encoder, c.Weaviate.Sharding)
	}
}

func TestConfigFileFromEnvironment(t *testing.T) {
	file := writeFile(t, "weaviate:\n  collection: Wiki\n")
	l, err := Load(Options{Environ: []string{"XQG_CONFIG=" + file}})
	if err != nil {
		t.Fatal(err)
	}
	if l.Config.Weaviate.Collection != "Wiki" || l.File != file {
		t.Errorf("collection = %q from %q", l.Config.Weaviate.Collection, l.File)
	}
}

func TestUnknownKeys(t *testing.T) {
	tests := []struct {
		name      string
		file      string
		overrides map[string]string
		want      []string
	}{
		{"typo in file", "augment:\n  alpah: 0.1\n", nil, []string{"augment.alpah: unknown key", "did you mean augment.alpha?"}},
		{"unknown section", "genrator:\n  top_k: 3\n", nil, []string{"genrator.top_k: unknown key", "did you mean generator.top_k?"}},
		{"unknown override", "", map[string]string{"module.listn": "x"}, []string{"module.listn: unknown key", "did you mean module.listen?"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := Options{Environ: []string{}, Overrides: tt.overrides}
			if tt.file != "" {
				opts.File = writeFile(t, tt.file)
			}
			_, err := Load(opts)
			if err == nil {
				t.Fatal("want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestValidationReportsEveryProblem(t *testing.T) {
	file := writeFile(t, strings.Join([]string{
		"augment:", "  alpha: 1.5", "  mode: median",
		"encoder:", "  pooling: max",
		"generator:", "  languages: [ar, xx]", "  prompt_template: no placeholder",
		"weaviate:", "  url: ftp://x", "  distance: jaccard",
		"module:", "  listen: nowhere",
	}, "\n"))
	_, err := Load(Options{File: file, Environ: []string{}})
	var p Problems
	if err == nil {
		t.Fatal("want validation errors")
	}
	p, ok := err.(Problems)
	if !ok {
		t.Fatalf("error %T is not Problems: %v", err, err)
	}
	want := []string{
		"augment.alpha: must be within [0,1], got 1.5",
		`augment.mode: must be one of sum, mean, got "median"`,
		`encoder.pooling: must be one of , cls, mean, got "max"`,
		`generator.languages: must be one of ar, bn, fi, ja, ko, ru, te, got "xx"`,
		`generator.prompt_template: must contain {passage}, got "no placeholder"`,
		`weaviate.url: must be an http(s) URL with a host, got "ftp://x"`,
		`weaviate.distance: must be one of cosine, dot, l2-squared, hamming, manhattan, got "jaccard"`,
		`module.listen: must be host:port, got "nowhere"`,
	}
	for _, w := range want {
		found := false
		for _, got := range p {
			found = found || got == w
		}
		if !found {
			t.Errorf("missing problem %q in:\n%v", w, err)
		}
	}
	if len(p) != len(want) {
		t.Errorf("got %d problems, want %d:\n%v", len(p), len(want), err)
	}
}

func TestTypeErrorsNameTheKey(t *testing.T) {
	_, err := Load(Options{Environ: []string{"XQG_MODULE_BATCH_SIZE=many"}})
	if err == nil || !strings.Contains(err.Error(), "batch_size") {
		t.Fatalf("want an error naming batch_size, got %v", err)
	}
}

func TestDefaultsAreValid(t *testing.T) {
	if p := Defaults().Validate(); len(p) > 0 {
		t.Fatal(p)
	}
}

// TestExampleDocumentsEveryKey keeps xqg.example.yaml complete: it must load cleanly (no unknown
// key) and set every key there is.
func TestExampleDocumentsEveryKey(t *testing.T) {
	example := filepath.Join("..", "xqg.example.yaml")
	l, err := Load(Options{File: example, Environ: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range Keys() {
		if l.Sources[k] != SourceFile {
			t.Errorf("%s is not documented in xqg.example.yaml", k)
		}
	}
	if l.Config.Augment.Alpha != Defaults().Augment.Alpha || l.Config.Module.Listen != Defaults().Module.Listen {
		t.Errorf("example values differ from the defaults")
	}
}

func TestMissingFile(t *testing.T) {
	_, err := Load(Options{File: filepath.Join(t.TempDir(), "nope.yaml"), Environ: []string{}})
	if err == nil || !strings.Contains(err.Error(), "nope.yaml") {
		t.Fatalf("want an error naming the file, got %v", err)
	}
}
