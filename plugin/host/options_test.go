package host_test

import (
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/xqg/xqg/config"
	"github.com/xqg/xqg/plugin"
	"github.com/xqg/xqg/plugin/host"
)

func TestOptionsFrom(t *testing.T) {
	cfg := config.Defaults()
	cfg.Plugin = config.Plugin{Path: "/ignored/when/resolved", StartTimeout: 7 * time.Second, MaxRestarts: 4, RestartBackoff: 3 * time.Millisecond}
	cfg.Encoder.ModelDir, cfg.Generator.ModelDir, cfg.Cache.Dir = "/m/enc", "/m/gen", "/c"
	logger := slog.New(slog.DiscardHandler)
	o := host.OptionsFrom(cfg, "/bin/xqg-vectorizer", logger)
	if o.Path != "/bin/xqg-vectorizer" || o.Logger != logger {
		t.Errorf("path %q, logger %p: want the resolved path and the given logger", o.Path, o.Logger)
	}
	if o.StartTimeout != 7*time.Second || o.MaxRestarts != 4 || o.RestartBackoff != 3*time.Millisecond {
		t.Errorf("supervision %v/%d/%v, want plugin.start_timeout 7s, max_restarts 4, restart_backoff 3ms", o.StartTimeout, o.MaxRestarts, o.RestartBackoff)
	}
	if got, want := fmt.Sprintf("%+v", o.Config), fmt.Sprintf("%+v", plugin.BackendConfigOf(cfg)); got != want {
		t.Errorf("backend config\n got %s\nwant %s", got, want)
	}
}

func TestOptionsFromPassesTheCacheFolder(t *testing.T) {
	tests := []struct {
		cacheDir string
		want     []string
	}{
		{"", nil},
		{"/data/xqg", []string{"XQG_CACHE_DIR=/data/xqg"}},
	}
	for _, tt := range tests {
		cfg := config.Defaults()
		cfg.Cache.Dir = tt.cacheDir
		if got := host.OptionsFrom(cfg, "/p", nil).Env; fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("cache.dir %q: plugin env %v, want %v", tt.cacheDir, got, tt.want)
		}
	}
}
