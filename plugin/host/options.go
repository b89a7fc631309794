package host

import (
	"log/slog"

	"github.com/xqg/xqg/config"
	"github.com/xqg/xqg/plugin"
)

// OptionsFrom is the one mapping from xqg's configuration to Options, so every command that starts
// the plugin supervises it the same way: the backend sections of cfg, and plugin.start_timeout,
// plugin.max_restarts and plugin.restart_backoff. path is the resolved plugin binary (cfg.Plugin.Path
// may be empty, meaning "look for it"; resolving it is the caller's business). The other fields keep
// Start's defaults.
//
// cache.dir, when set, becomes the plugin's XQG_CACHE_DIR: the plugin finds its cache folder (the
// ONNX Runtime that setup installed, model identities) through internal/cachedir, which reads it.
func OptionsFrom(cfg config.Config, path string, logger *slog.Logger) Options {
	o := Options{
		Path:           path,
		Config:         plugin.BackendConfigOf(cfg),
		Logger:         logger,
		StartTimeout:   cfg.Plugin.StartTimeout,
		MaxRestarts:    cfg.Plugin.MaxRestarts,
		RestartBackoff: cfg.Plugin.RestartBackoff,
	}
	if cfg.Cache.Dir != "" {
		o.Env = []string{"XQG_CACHE_DIR=" + cfg.Cache.Dir}
	}
	return o
}
