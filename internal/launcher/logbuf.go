package launcher

import (
	"bytes"
	"strings"
	"sync"
)

// tailBuffer keeps the last max bytes written to it; the server log can be gigabytes over a long
// ingest, but an error message only needs its end.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func newTailBuffer(max int) *tailBuffer { return &tailBuffer{max: max} }

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := len(p)
	if len(p) >= b.max {
		p = p[len(p)-b.max:]
		b.buf = append(b.buf[:0], p...)
		return n, nil
	}
	if over := len(b.buf) + len(p) - b.max; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
	}
	b.buf = append(b.buf, p...)
	return n, nil
}

// Lines returns at most n complete trailing lines (a partial first line from trimming is dropped).
func (b *tailBuffer) Lines(n int) string {
	b.mu.Lock()
	data := bytes.Clone(b.buf)
	full := len(b.buf) >= b.max
	b.mu.Unlock()
	if full {
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			data = data[i+1:]
		}
	}
	s := strings.TrimRight(string(data), "\n")
	if s == "" {
		return ""
	}
	lines := strings.Split(s, "\n")
	if n > 0 && len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
