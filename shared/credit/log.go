package credit

import (
	"context"
	"log/slog"
	"slices"
)

// Log lines name what they were written for: the edge that starts a piece
// of work (a request, a billing run) stores its identity in the context
// with WithLogAttrs, and the handler from NewLogHandler adds it to every
// line written with that context (the ...Context methods of slog.Logger),
// the domain's own lines included. One logger serves every request.

type logAttrsKey struct{}

// WithLogAttrs returns ctx whose log lines carry attrs besides those ctx
// already carries; an attribute replaces an earlier one of the same key.
func WithLogAttrs(ctx context.Context, attrs ...slog.Attr) context.Context {
	prev := LogAttrs(ctx)
	all := make([]slog.Attr, 0, len(prev)+len(attrs))
	for _, a := range prev {
		if !slices.ContainsFunc(attrs, func(b slog.Attr) bool { return b.Key == a.Key }) {
			all = append(all, a)
		}
	}
	all = append(all, attrs...)
	return context.WithValue(ctx, logAttrsKey{}, all)
}

// LogAttrs returns the attributes ctx adds to log lines.
func LogAttrs(ctx context.Context) []slog.Attr {
	if ctx == nil {
		return nil
	}
	attrs, _ := ctx.Value(logAttrsKey{}).([]slog.Attr)
	return attrs
}

// NewLogHandler wraps h so that every record handled with a context gets
// that context's LogAttrs. Wrapping a handler it returned returns it as is.
func NewLogHandler(h slog.Handler) slog.Handler {
	if c, ok := h.(contextHandler); ok {
		return c
	}
	return contextHandler{h}
}

// contextHandler adds the context's LogAttrs to each record, as the
// record's own attributes (inside a group, were the logger to open one).
type contextHandler struct{ next slog.Handler }

func (h contextHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h contextHandler) Handle(ctx context.Context, r slog.Record) error {
	if attrs := LogAttrs(ctx); len(attrs) > 0 {
		r = r.Clone()
		r.AddAttrs(attrs...)
	}
	return h.next.Handle(ctx, r)
}

func (h contextHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return contextHandler{h.next.WithAttrs(attrs)}
}

func (h contextHandler) WithGroup(name string) slog.Handler {
	return contextHandler{h.next.WithGroup(name)}
}
