package plugin

import (
	"context"
	"io"
	"log"
	"log/slog"
	"os"
	"strings"

	"github.com/hashicorp/go-hclog"
)

// go-plugin speaks hclog on both sides: the plugin writes hclog JSON lines to stderr and the host
// re-emits them, at their level, through an hclog.Logger. xqg logs with log/slog, so these two
// adapters bridge slog → hclog in the plugin and hclog → slog in the host.

// LevelTrace is slog's level for hclog's Trace.
const LevelTrace = slog.LevelDebug - 4

// HCLog returns an hclog.Logger that writes to l. A nil l means slog.Default().
func HCLog(l *slog.Logger) hclog.Logger {
	if l == nil {
		l = slog.Default()
	}
	return &slogHC{l: l}
}

type slogHC struct {
	l       *slog.Logger
	name    string
	implied []any
}

func slogLevel(level hclog.Level) slog.Level {
	switch level {
	case hclog.Trace:
		return LevelTrace
	case hclog.Debug:
		return slog.LevelDebug
	case hclog.Warn:
		return slog.LevelWarn
	case hclog.Error:
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}

func (s *slogHC) Log(level hclog.Level, msg string, args ...any) {
	if level == hclog.Off {
		return
	}
	lv := slogLevel(level)
	if !s.l.Enabled(context.Background(), lv) {
		return
	}
	attrs := make([]any, 0, len(args)+2)
	if s.name != "" {
		attrs = append(attrs, "logger", s.name)
	}
	attrs = append(attrs, s.implied...)
	attrs = append(attrs, args...)
	s.l.Log(context.Background(), lv, msg, attrs...)
}

func (s *slogHC) Trace(msg string, args ...any) { s.Log(hclog.Trace, msg, args...) }
func (s *slogHC) Debug(msg string, args ...any) { s.Log(hclog.Debug, msg, args...) }
func (s *slogHC) Info(msg string, args ...any)  { s.Log(hclog.Info, msg, args...) }
func (s *slogHC) Warn(msg string, args ...any)  { s.Log(hclog.Warn, msg, args...) }
func (s *slogHC) Error(msg string, args ...any) { s.Log(hclog.Error, msg, args...) }

func (s *slogHC) enabled(l slog.Level) bool { return s.l.Enabled(context.Background(), l) }
func (s *slogHC) IsTrace() bool             { return s.enabled(LevelTrace) }
func (s *slogHC) IsDebug() bool             { return s.enabled(slog.LevelDebug) }
func (s *slogHC) IsInfo() bool              { return s.enabled(slog.LevelInfo) }
func (s *slogHC) IsWarn() bool              { return s.enabled(slog.LevelWarn) }
func (s *slogHC) IsError() bool             { return s.enabled(slog.LevelError) }
func (s *slogHC) ImpliedArgs() []any        { return s.implied }
func (s *slogHC) Name() string              { return s.name }

func (s *slogHC) With(args ...any) hclog.Logger {
	c := *s
	c.implied = append(append([]any(nil), s.implied...), args...)
	return &c
}

func (s *slogHC) Named(name string) hclog.Logger {
	c := *s
	if c.name != "" {
		c.name += "." + name
	} else {
		c.name = name
	}
	return &c
}

func (s *slogHC) ResetNamed(name string) hclog.Logger {
	c := *s
	c.name = name
	return &c
}

// SetLevel is a no-op: the slog handler decides what is logged.
func (s *slogHC) SetLevel(hclog.Level) {}

func (s *slogHC) GetLevel() hclog.Level {
	for _, l := range []hclog.Level{hclog.Trace, hclog.Debug, hclog.Info, hclog.Warn, hclog.Error} {
		if s.enabled(slogLevel(l)) {
			return l
		}
	}
	return hclog.Off
}

func (s *slogHC) StandardLogger(opts *hclog.StandardLoggerOptions) *log.Logger {
	return log.New(s.StandardWriter(opts), "", 0)
}

func (s *slogHC) StandardWriter(*hclog.StandardLoggerOptions) io.Writer {
	return writerFunc(func(p []byte) (int, error) {
		s.Info(strings.TrimRight(string(p), "\n"))
		return len(p), nil
	})
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// PluginLogger is the logger a plugin process uses: hclog JSON on stderr, which the host
// forwards into its own log. XQG_PLUGIN_LOG_LEVEL (trace, debug, info, warn, error) sets the level.
func PluginLogger(name string) hclog.Logger {
	level := hclog.LevelFromString(os.Getenv("XQG_PLUGIN_LOG_LEVEL"))
	if level == hclog.NoLevel {
		level = hclog.Info
	}
	return hclog.New(&hclog.LoggerOptions{Name: name, Level: level, Output: os.Stderr, JSONFormat: true})
}

// SlogHandler returns a slog.Handler writing through an hclog.Logger, so code in a plugin that
// logs with slog (slog.Default()) reaches the host too.
func SlogHandler(l hclog.Logger) slog.Handler { return &hcHandler{l: l} }

type hcHandler struct {
	l     hclog.Logger
	attrs []any
	group string
}

func (h *hcHandler) Enabled(_ context.Context, lv slog.Level) bool {
	switch {
	case lv >= slog.LevelError:
		return h.l.IsError()
	case lv >= slog.LevelWarn:
		return h.l.IsWarn()
	case lv >= slog.LevelInfo:
		return h.l.IsInfo()
	case lv >= slog.LevelDebug:
		return h.l.IsDebug()
	default:
		return h.l.IsTrace()
	}
}

func (h *hcHandler) Handle(_ context.Context, r slog.Record) error {
	args := append([]any(nil), h.attrs...)
	r.Attrs(func(a slog.Attr) bool {
		args = append(args, h.key(a.Key), a.Value.Resolve().Any())
		return true
	})
	lv := hclog.Info
	switch {
	case r.Level >= slog.LevelError:
		lv = hclog.Error
	case r.Level >= slog.LevelWarn:
		lv = hclog.Warn
	case r.Level >= slog.LevelInfo:
		lv = hclog.Info
	case r.Level >= slog.LevelDebug:
		lv = hclog.Debug
	default:
		lv = hclog.Trace
	}
	h.l.Log(lv, r.Message, args...)
	return nil
}

func (h *hcHandler) key(k string) string {
	if h.group == "" {
		return k
	}
	return h.group + "." + k
}

func (h *hcHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append([]any(nil), h.attrs...)
	for _, a := range as {
		c.attrs = append(c.attrs, h.key(a.Key), a.Value.Resolve().Any())
	}
	return &c
}

func (h *hcHandler) WithGroup(name string) slog.Handler {
	c := *h
	c.group = h.key(name)
	return &c
}
