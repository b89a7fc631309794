// Package cachedir resolves the folder outside the clone where xqg keeps what it downloads or builds
// (ONNX Runtime, weaviate-server, generated models and fixtures), so fresh clones on one machine share it.
package cachedir

import (
	"os"
	"path/filepath"
)

// Dir returns $XQG_CACHE_DIR, else ${XDG_CACHE_HOME:-~/.cache}/xqg.
func Dir() string {
	if d := os.Getenv("XQG_CACHE_DIR"); d != "" {
		return d
	}
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "xqg")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".cache", "xqg")
	}
	return filepath.Join(os.TempDir(), "xqg-cache")
}

// Sub returns a path below the cache folder.
func Sub(elem ...string) string {
	return filepath.Join(append([]string{Dir()}, elem...)...)
}
