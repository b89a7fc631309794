package integration

import (
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/xqg/xqg/config"
	"github.com/xqg/xqg/internal/testenv"
	"github.com/xqg/xqg/internal/versions"
)

type composeFile struct {
	Services map[string]struct {
		Image       string            `yaml:"image"`
		Command     []string          `yaml:"command"`
		Ports       []string          `yaml:"ports"`
		Environment map[string]string `yaml:"environment"`
		Volumes     []string          `yaml:"volumes"`
		Build       struct {
			Context    string `yaml:"context"`
			Dockerfile string `yaml:"dockerfile"`
		} `yaml:"build"`
		DependsOn map[string]struct {
			Condition string `yaml:"condition"`
		} `yaml:"depends_on"`
		Healthcheck struct {
			Test []string `yaml:"test"`
		} `yaml:"healthcheck"`
	} `yaml:"services"`
	Volumes map[string]any `yaml:"volumes"`
}

// docker-compose.yml and the Dockerfile cannot be run here (no Docker engine or registry): this
// checks that they describe what the integration tests run natively.
func TestComposeAndDockerfileAgreeWithNative(t *testing.T) {
	root := testenv.RepoRoot()
	raw, err := os.ReadFile(filepath.Join(root, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var cf composeFile
	if err := yaml.Unmarshal(raw, &cf); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	wv, ok1 := cf.Services["weaviate"]
	xs, ok2 := cf.Services["xqg"]
	if !ok1 || !ok2 {
		t.Fatalf("services %v: want weaviate and xqg", cf.Services)
	}

	if want := "cr.weaviate.io/semitechnologies/weaviate:" + strings.TrimPrefix(versions.Weaviate, "v"); wv.Image != want {
		t.Errorf("weaviate image %q, want %q (internal/versions)", wv.Image, want)
	}
	// The service's listen port, as xqg serve is told and as the image exposes it.
	_, listenPort, err := net.SplitHostPort(xs.Environment[config.EnvVar("module.listen")])
	if err != nil {
		t.Fatalf("xqg %s: %v", config.EnvVar("module.listen"), err)
	}
	serviceURL := "http://xqg:" + listenPort
	// The same module and variables the native Weaviate gets, with the service's compose address.
	for _, kv := range transformersEnv(serviceURL) {
		k, v, _ := strings.Cut(kv, "=")
		got, ok := wv.Environment[k]
		switch {
		case !ok:
			t.Errorf("weaviate environment lacks %s (the integration tests set %s)", k, kv)
		case k == "TRANSFORMERS_WAIT_FOR_STARTUP":
			// Natively false so tests can stop the service; compose waits (depends_on healthy) instead.
		case got != v:
			t.Errorf("weaviate %s=%q, want %q", k, got, v)
		}
	}
	// What internal/launcher sets natively.
	for k, v := range map[string]string{"DEFAULT_VECTORIZER_MODULE": "none", "AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED": "true"} {
		if wv.Environment[k] != v {
			t.Errorf("weaviate %s=%q, want %q", k, wv.Environment[k], v)
		}
	}
	// Published ports are the configuration's defaults, so xqg on the host works with no settings.
	d := config.Defaults().Weaviate
	u, _ := url.Parse(d.URL)
	_, grpcPort, _ := net.SplitHostPort(d.GRPCAddress)
	for _, p := range []string{u.Port() + ":8080", grpcPort + ":" + wv.Environment["GRPC_PORT"]} {
		if !slices.Contains(wv.Ports, p) {
			t.Errorf("weaviate ports %v lack %s (weaviate.url %s, weaviate.grpc_address %s)", wv.Ports, p, d.URL, d.GRPCAddress)
		}
	}
	if !slices.Contains(wv.Command, "8080") {
		t.Errorf("weaviate command %v does not listen on 8080", wv.Command)
	}
	_, defListen, _ := net.SplitHostPort(config.Defaults().Module.Listen)
	if listenPort != defListen || !slices.Contains(xs.Ports, listenPort+":"+listenPort) {
		t.Errorf("xqg listens on %s (default module.listen port %s), ports %v", listenPort, defListen, xs.Ports)
	}
	// Persistent volumes, healthchecks on the readiness endpoints, start order.
	if dataDir := wv.Environment["PERSISTENCE_DATA_PATH"]; !hasVolume(wv.Volumes, dataDir) || !hasKey(cf.Volumes, "weaviate-data") {
		t.Errorf("weaviate data %s not on a named volume: %v", dataDir, wv.Volumes)
	}
	if !strings.Contains(strings.Join(wv.Healthcheck.Test, " "), "/v1/.well-known/ready") ||
		!strings.Contains(strings.Join(xs.Healthcheck.Test, " "), ":"+listenPort+"/.well-known/ready") {
		t.Errorf("healthchecks: weaviate %v, xqg %v", wv.Healthcheck.Test, xs.Healthcheck.Test)
	}
	if wv.DependsOn["xqg"].Condition != "service_healthy" {
		t.Errorf("weaviate must wait for a healthy xqg: %v", wv.DependsOn)
	}
	enc := xs.Environment[config.EnvVar("encoder.model_dir")]
	if enc == "" || !hasVolume(xs.Volumes, filepath.Dir(enc)) {
		t.Errorf("encoder.model_dir %q is not on a mounted volume %v", enc, xs.Volumes)
	}
	// Every XQG_ variable is a configuration key.
	keys := map[string]bool{}
	for _, k := range config.Keys() {
		keys[config.EnvVar(k)] = true
	}
	for k := range xs.Environment {
		if strings.HasPrefix(k, "XQG_") && !keys[k] {
			t.Errorf("xqg environment %s is not a configuration key", k)
		}
	}
	if xs.Build.Context != "." || xs.Build.Dockerfile != "Dockerfile" || !slices.Equal(xs.Command, []string{"serve"}) {
		t.Errorf("xqg build %+v command %v", xs.Build, xs.Command)
	}
	checkDockerfile(t, filepath.Join(root, "Dockerfile"), listenPort, keys)
}

func hasKey(m map[string]any, k string) bool {
	_, ok := m[k]
	return ok
}

func hasVolume(vols []string, path string) bool {
	for _, v := range vols {
		parts := strings.Split(v, ":")
		if len(parts) >= 2 && parts[1] == path {
			return true
		}
	}
	return false
}

func checkDockerfile(t *testing.T, path, listenPort string, keys map[string]bool) {
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	df := string(raw)
	if n := len(regexp.MustCompile(`(?m)^FROM `).FindAllString(df, -1)); n < 3 {
		t.Errorf("Dockerfile has %d stages, want ONNX Runtime, build and runtime stages", n)
	}
	for _, want := range []string{
		"CGO_ENABLED=0 go build -trimpath -o /out/xqg ./cmd/xqg",
		"CGO_ENABLED=1 go build -trimpath -o /out/xqg-vectorizer ./cmd/xqg-vectorizer",
		"npm pack " + versions.ONNXRuntimeNPM,
		versions.ONNXRuntimeTarPath,
		versions.ONNXRuntimeSHA256,
		"EXPOSE " + listenPort,
		"127.0.0.1:" + listenPort + "/.well-known/ready",
	} {
		if !strings.Contains(df, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	if m := regexp.MustCompile(`FROM golang:(\S+)`).FindStringSubmatch(df); m == nil || !strings.HasPrefix(m[1], goVersion(t)) {
		t.Errorf("Dockerfile Go image %v, want go %s from go.mod", m, goVersion(t))
	}
	// Paths the environment points at are where the image puts the files.
	env := map[string]string{}
	for _, m := range regexp.MustCompile(`(XQG_[A-Z_]+)=(\S+)`).FindAllStringSubmatch(df, -1) {
		env[m[1]] = m[2]
		if !keys[m[1]] {
			t.Errorf("Dockerfile sets %s, not a configuration key", m[1])
		}
	}
	for key, copied := range map[string]string{"ort.library_path": "/usr/local/lib/libonnxruntime.so.1", "plugin.path": "/usr/local/bin/xqg-vectorizer"} {
		if got := env[config.EnvVar(key)]; got != copied {
			t.Errorf("Dockerfile %s=%q, want %q", config.EnvVar(key), got, copied)
		}
	}
	if !strings.Contains(df, "/usr/local/lib/libonnxruntime.so.1") || !strings.Contains(df, "/out/xqg-vectorizer /usr/local/bin/") {
		t.Error("Dockerfile does not copy the library and binaries where its environment says")
	}
}

func goVersion(t *testing.T) string {
	raw, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindStringSubmatch(string(raw))
	if m == nil {
		t.Fatal("go.mod has no go line")
	}
	return m[1]
}
