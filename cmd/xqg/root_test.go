package main

import (
	"os"
	"path/filepath"
	"testing"
)

func TestExitCodes(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("augment:\n  alpha: 2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"version", []string{"version"}, 0},
		{"valid config", []string{"config", "validate"}, 0},
		{"print config", []string{"config", "print", "--set", "augment.alpha=0.5"}, 0},
		{"invalid config file", []string{"config", "validate", "--config", bad}, 2},
		{"invalid override", []string{"config", "validate", "--set", "augment.alpha=7"}, 2},
		{"malformed --set", []string{"config", "print", "--set", "alpha"}, 2},
		{"unknown command", []string{"frobnicate"}, 2},
		{"unknown flag", []string{"version", "--nope"}, 2},
		{"missing argument", []string{"query"}, 2},
		{"extra argument", []string{"version", "extra"}, 2},
		{"missing config file", []string{"config", "validate", "--config", filepath.Join(t.TempDir(), "none.yaml")}, 2},
	}
	t.Setenv("XQG_CONFIG", "")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := run(tt.args); got != tt.want {
				t.Errorf("xqg %v exited %d, want %d", tt.args, got, tt.want)
			}
		})
	}
}
