// Package emf writes CloudWatch metrics in the Embedded Metric Format: a
// log line whose "_aws" member tells CloudWatch Logs which of the line's
// root members are metrics and which are their dimensions. The functions
// already write JSON lines to their log groups, so a metric costs no call
// and no permission; CloudWatch extracts it from the line.
//
// A line is written with the function's logger, so it also carries the
// request's identity (awsRequestId, traceId, requestId) like every other
// line.
package emf

import (
	"context"
	"log/slog"
	"os"
	"slices"
	"time"
)

// EnvNamespace names the environment variable with the metrics' namespace.
const EnvNamespace = "METRICS_NAMESPACE"

// DefaultNamespace is the namespace when EnvNamespace is unset (local runs).
const DefaultNamespace = "CreditAnalysis/local"

// Namespace is the namespace the environment names.
func Namespace() string {
	if v := os.Getenv(EnvNamespace); v != "" {
		return v
	}
	return DefaultNamespace
}

// Unit is a CloudWatch unit.
type Unit string

const (
	Count        Unit = "Count"
	Milliseconds Unit = "Milliseconds"
	Seconds      Unit = "Seconds"
)

// Metric is one value of a metric.
type Metric struct {
	Name  string
	Unit  Unit
	Value float64
}

// Block is one EMF block: metrics under every set of dimensions in
// Dimensions, whose names Dims gives values to. An empty set publishes the
// metrics without dimensions, which is what alarms on the whole service
// read. A nil Dimensions publishes under all of Dims' names together and
// under none.
type Block struct {
	Namespace  string
	Dimensions [][]string
	Dims       map[string]string
	Metrics    []Metric
}

// Message is the msg of every metric line.
const Message = "metrics"

// Attrs are the block's log attributes at time at: "_aws", each dimension
// value and each metric value, at the line's root as the format requires.
func (b Block) Attrs(at time.Time) []slog.Attr {
	defs := make([]map[string]any, len(b.Metrics))
	attrs := make([]slog.Attr, 0, 1+len(b.Dims)+len(b.Metrics))
	for i, m := range b.Metrics {
		defs[i] = map[string]any{"Name": m.Name, "Unit": string(m.Unit)}
		attrs = append(attrs, slog.Float64(m.Name, m.Value))
	}
	names := make([]string, 0, len(b.Dims))
	for k := range b.Dims {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		attrs = append(attrs, slog.String(k, b.Dims[k]))
	}
	dims := b.Dimensions
	switch {
	case dims != nil:
	case len(names) > 0:
		dims = [][]string{names, {}}
	default:
		dims = [][]string{{}}
	}
	aws := map[string]any{
		"Timestamp": at.UnixMilli(),
		"CloudWatchMetrics": []map[string]any{{
			"Namespace":  b.Namespace,
			"Dimensions": dims,
			"Metrics":    defs,
		}},
	}
	return append([]slog.Attr{slog.Any("_aws", aws)}, attrs...)
}

// Write logs the block at info level, now.
func Write(ctx context.Context, log *slog.Logger, b Block) {
	log.LogAttrs(ctx, slog.LevelInfo, Message, b.Attrs(time.Now())...)
}
