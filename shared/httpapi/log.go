package httpapi

import (
	"context"
	"log/slog"
)

type loggerKey struct{}
type requestIDKey struct{}

// WithLogger returns ctx carrying the server's logger; the request's
// identity reaches its lines through credit.WithLogAttrs on the same ctx.
func WithLogger(ctx context.Context, l *slog.Logger) context.Context {
	return context.WithValue(ctx, loggerKey{}, l)
}

// Logger returns the logger ctx carries, or slog.Default(). Write with its
// ...Context methods, passing ctx, so the line names the request.
func Logger(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok {
		return l
	}
	return slog.Default()
}

// WithRequestID returns ctx carrying the request id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the id of the request being served.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}
