package main

import (
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/xqg/xqg/config"
	"github.com/xqg/xqg/plugin/host"
)

// pluginBinary is the plugin's file name, looked for next to the xqg binary and then on $PATH.
const pluginBinary = "xqg-vectorizer"

// pluginOptions resolves plugin.path and maps the configuration onto the supervisor's options: what
// every command that starts the plugin passes to host.Start.
func pluginOptions(cfg config.Config, logger *slog.Logger) (host.Options, error) {
	path, err := findPlugin(cfg.Plugin.Path)
	if err != nil {
		return host.Options{}, err
	}
	return host.OptionsFrom(cfg, path, logger), nil
}

// findPlugin resolves plugin.path: an explicit path must exist; empty means xqg-vectorizer next to this
// binary, then on $PATH.
func findPlugin(configured string) (string, error) {
	if configured != "" {
		if _, err := os.Stat(configured); err != nil {
			return "", usageError(fmt.Errorf("plugin.path %s: %w", configured, err))
		}
		return configured, nil
	}
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), pluginBinary)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if p, err := exec.LookPath(pluginBinary); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("%s not found next to the xqg binary or on $PATH: build it (make build) or set plugin.path", pluginBinary)
}
