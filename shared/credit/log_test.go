package credit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"creditanalysis/shared/credit"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// logLines parses JSON log lines, failing on a line that names a key twice.
func logLines(t *testing.T, raw string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(raw), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m), line)
		for _, key := range []string{"requestId", "runId", "actor"} {
			require.LessOrEqual(t, strings.Count(line, `"`+key+`":`), 1, "key %s twice: %s", key, line)
		}
		out = append(out, m)
	}
	return out
}

func TestLogHandlerAddsTheContextsAttributes(t *testing.T) {
	base := context.Background()
	cases := []struct {
		name string
		ctx  context.Context
		// logger derives the logger written with from l.
		logger func(l *slog.Logger) *slog.Logger
		want   map[string]any
		absent []string
	}{
		{name: "no attributes", ctx: base, want: map[string]any{"msg": "hello"}, absent: []string{"requestId"}},
		{name: "the request", ctx: credit.WithLogAttrs(base, slog.String("requestId", "req-1")),
			want: map[string]any{"requestId": "req-1"}},
		{name: "added to as the work goes", ctx: credit.WithLogAttrs(credit.WithLogAttrs(base, slog.String("requestId", "req-1")), slog.String("runId", "run-1")),
			want: map[string]any{"requestId": "req-1", "runId": "run-1"}},
		{name: "a key set again is replaced", ctx: credit.WithLogAttrs(credit.WithLogAttrs(base, slog.String("runId", "run-1"), slog.String("requestId", "req-1")), slog.String("runId", "run-2")),
			want: map[string]any{"requestId": "req-1", "runId": "run-2"}},
		{name: "with the logger's own attributes", ctx: credit.WithLogAttrs(base, slog.String("requestId", "req-1")),
			logger: func(l *slog.Logger) *slog.Logger { return l.With(slog.String("integrationId", "int-1")) },
			want:   map[string]any{"requestId": "req-1", "integrationId": "int-1"}},
		{name: "wrapped twice, added once", ctx: credit.WithLogAttrs(base, slog.String("requestId", "req-1")),
			logger: func(l *slog.Logger) *slog.Logger { return slog.New(credit.NewLogHandler(l.Handler())) },
			want:   map[string]any{"requestId": "req-1"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			l := slog.New(credit.NewLogHandler(slog.NewJSONHandler(&buf, nil)))
			if tc.logger != nil {
				l = tc.logger(l)
			}
			l.InfoContext(tc.ctx, "hello")
			lines := logLines(t, buf.String())
			require.Len(t, lines, 1)
			for k, v := range tc.want {
				assert.Equal(t, v, lines[0][k], k)
			}
			for _, k := range tc.absent {
				assert.NotContains(t, lines[0], k)
			}
		})
	}
}

func TestWithLogAttrsLeavesTheParentAlone(t *testing.T) {
	parent := credit.WithLogAttrs(context.Background(), slog.String("requestId", "req-1"))
	_ = credit.WithLogAttrs(parent, slog.String("runId", "run-1"))
	_ = credit.WithLogAttrs(parent, slog.String("requestId", "req-2"))
	assert.Equal(t, []slog.Attr{slog.String("requestId", "req-1")}, credit.LogAttrs(parent))
}

// Every line written while a run works names the run and the invocation
// that runs it, the negativation service's and the bureau access's lines
// included.
func TestBillingRunLinesCarryTheRunID(t *testing.T) {
	e := newBillingEnv(t)
	e.bureau.IncludeFault = func(credit.NegativationRequest) (bool, error) {
		return false, credit.BureauUnavailable(errors.New("HTTP 503"))
	}
	for _, id := range []string{"c1", "c2"} {
		c := e.customer(t, id, "b1", func(*credit.Party) {})
		e.invoice(t, c, "inv-"+id, 40, func(*credit.Invoice) {})
	}
	e.logs.Reset()

	ctx := credit.WithLogAttrs(context.Background(), slog.String("requestId", "invocation-7"))
	run, err := e.rule.RunScheduled(ctx, time.Time{})
	require.NoError(t, err)
	require.Equal(t, 2, run.Counts.Failed)

	lines := logLines(t, e.logs.String())
	msgs := map[string]int{}
	for _, l := range lines {
		msgs[l["msg"].(string)]++
		assert.Equal(t, run.ID, l["runId"], "%v", l)
		assert.Equal(t, "invocation-7", l["requestId"], "%v", l)
	}
	assert.Equal(t, 2, msgs["negativation inclusion failed"], "the negativation service's own lines: %v", msgs)
	assert.Equal(t, 1, msgs["billing run started"], "%v", msgs)
	assert.Equal(t, 1, msgs["billing run ended"], "%v", msgs)
}
