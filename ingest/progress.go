package ingest

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// progress reports by bytes of input passed, the only total a stream has without reading it twice.
type progress struct {
	w        io.Writer
	tty      bool
	every    time.Duration
	size     int64
	from     int64
	start    time.Time
	last     time.Time
	printed  bool
	imported int64
	failed   int64
	offset   int64
}

func newProgress(w io.Writer, tty bool, every time.Duration, size, from int64) *progress {
	now := time.Now()
	return &progress{w: w, tty: tty, every: every, size: size, from: from, offset: from, start: now, last: now}
}

func (p *progress) update(offset, imported, failed int64) {
	if p.w == nil {
		return
	}
	p.offset, p.imported, p.failed = offset, imported, failed
	now := time.Now()
	if p.tty {
		if now.Sub(p.last) < 200*time.Millisecond && offset < p.size {
			return
		}
		p.last = now
		fmt.Fprintf(p.w, "\r%s", p.line(now, true))
		p.printed = true
		return
	}
	if now.Sub(p.last) >= p.every {
		p.last = now
		fmt.Fprintln(p.w, p.line(now, false))
	}
}

func (p *progress) line(now time.Time, bar bool) string {
	frac := 0.0
	if p.size > 0 {
		frac = float64(p.offset) / float64(p.size)
	}
	el := now.Sub(p.start).Seconds()
	rate := 0.0
	if el > 0 {
		rate = float64(p.imported+p.failed) / el
	}
	eta := "?"
	if done := p.offset - p.from; done > 0 && el > 0 {
		left := time.Duration(float64(p.size-p.offset) / (float64(done) / el) * float64(time.Second))
		eta = left.Round(time.Second).String()
	}
	s := fmt.Sprintf("%5.1f%%  %d imported  %d failed  %.1f passages/s  ETA %s", 100*frac, p.imported, p.failed, rate, eta)
	if !bar {
		return "ingest: " + s
	}
	const width = 30
	n := int(frac * width)
	return "[" + strings.Repeat("=", n) + strings.Repeat(" ", width-n) + "] " + s
}

func (p *progress) done(s Summary) {
	if p.w == nil {
		return
	}
	if p.tty && p.printed {
		fmt.Fprintf(p.w, "\r%s\n", p.line(time.Now(), true))
	}
}
