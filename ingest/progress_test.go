package ingest

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestProgress(t *testing.T) {
	var tty, plain bytes.Buffer
	pt := newProgress(&tty, true, time.Hour, 1000, 0)
	pp := newProgress(&plain, false, time.Nanosecond, 1000, 0)
	pt.start = pt.start.Add(-2 * time.Second)
	pp.start = pp.start.Add(-2 * time.Second)
	pt.last = pt.last.Add(-time.Second)
	pt.update(500, 40, 2)
	pp.update(500, 40, 2)
	if s := tty.String(); !strings.HasPrefix(s, "\r[===============               ]  50.0%  40 imported  2 failed") ||
		!strings.Contains(s, "passages/s  ETA 2s") {
		t.Errorf("terminal line %q", s)
	}
	if s := plain.String(); !strings.HasPrefix(s, "ingest:  50.0%  40 imported  2 failed  2") || !strings.HasSuffix(s, " passages/s  ETA 2s\n") {
		t.Errorf("plain line %q", s)
	}
	pt.done(Summary{})
	if !strings.HasSuffix(tty.String(), "\n") {
		t.Error("the bar is not ended with a newline")
	}
	silent := newProgress(nil, false, time.Second, 1, 0)
	silent.update(1, 1, 0) // no writer: nothing, no panic
}
