package integration

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/xqg/xqg/plugin/host"
	"github.com/xqg/xqg/plugin/plugintest"
)

// ort.provider=cuda (or tensorrt) through the real plugin process: with a CPU-only ONNX Runtime
// (the npm build `xqg setup` installs) the plugin logs one fallback line naming the provider asked
// for, reports provider cpu in its Info (what `xqg serve`'s /meta shows), and still encodes; with a
// GPU build it reports the provider asked for.
func TestPluginProviderFallback(t *testing.T) {
	skipShort(t)
	for _, provider := range []string{"cuda", "tensorrt"} {
		t.Run(provider, func(t *testing.T) {
			cfg := plugintest.Tiny(t, false)
			cfg.ORT.Provider = provider
			var logs plugintest.Logs
			h := plugintest.Start(t, cfg, func(o *host.Options) {
				o.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			})
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			info, err := h.Info(ctx)
			if err != nil {
				t.Fatal(err)
			}
			got := logs.String()
			fallbacks := strings.Count(got, "falling back to cpu")
			switch info.Provider {
			case "cpu":
				if fallbacks != 1 {
					t.Errorf("provider cpu after asking for %s: want exactly one fallback log line, got %d:\n%s", provider, fallbacks, got)
				}
				if !strings.Contains(got, "provider="+provider) {
					t.Errorf("the fallback line does not name the provider asked for:\n%s", got)
				}
			case provider:
				if fallbacks != 0 {
					t.Errorf("provider %s but a fallback was logged:\n%s", provider, got)
				}
			default:
				t.Fatalf("Info.Provider = %q, want cpu or %s", info.Provider, provider)
			}
			vs, err := h.EmbedQueries(ctx, []string{"where is helsinki"})
			if err != nil || len(vs) != 1 || len(vs[0].Vector) != info.Dimension {
				t.Fatalf("encode on the %s provider: %+v %v", info.Provider, vs, err)
			}
		})
	}
}
