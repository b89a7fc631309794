package main

import (
	"context"
	"errors"

	"github.com/xqg/xqg/plugin"
)

// openGenerator loads the query generator of generator.model_dir.
func openGenerator(ctx context.Context, cfg plugin.BackendConfig) (generator, error) {
	return nil, errors.New("generator.model_dir: the query generator is not available in this build yet")
}
