package plugintest

import (
	"bytes"
	"sync"
)

// Logs is a log sink safe for the host's concurrent writers (its own and the forwarded plugin log
// lines), for tests that assert on what was logged.
type Logs struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *Logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *Logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
