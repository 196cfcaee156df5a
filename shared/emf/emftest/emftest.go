// Package emftest checks log lines against CloudWatch's Embedded Metric
// Format specification
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html),
// for the tests of every package that writes metrics.
package emftest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
)

// units are the values the specification allows for a metric's Unit.
var units = []string{
	"Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes",
	"Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count", "Bytes/Second",
	"Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second", "Bits/Second",
	"Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second", "Count/Second", "None",
}

// Validate lists what makes line, a JSON object, not an EMF document: the
// root must hold "_aws" with an integer Timestamp (milliseconds since the
// epoch) and CloudWatchMetrics directives, each with a Namespace, at most
// 30 names per dimension set, at most 100 metrics, every dimension a
// string member of the root and every metric a number (or array of at
// most 100 numbers) at the root.
func Validate(line []byte) []string {
	var root map[string]json.RawMessage
	if err := json.Unmarshal(line, &root); err != nil {
		return []string{"not a JSON object: " + err.Error()}
	}
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	var meta struct {
		Timestamp         json.RawMessage `json:"Timestamp"`
		CloudWatchMetrics []struct {
			Namespace  *string           `json:"Namespace"`
			Dimensions [][]string        `json:"Dimensions"`
			Metrics    []json.RawMessage `json:"Metrics"`
		} `json:"CloudWatchMetrics"`
	}
	raw, ok := root["_aws"]
	if !ok {
		return []string{"no _aws member"}
	}
	if err := json.Unmarshal(raw, &meta); err != nil {
		return []string{"_aws: " + err.Error()}
	}
	if ts := string(meta.Timestamp); ts == "" || strings.Trim(ts, "0123456789") != "" {
		add("_aws.Timestamp %s is not a non-negative integer", meta.Timestamp)
	}
	if meta.CloudWatchMetrics == nil {
		add("_aws.CloudWatchMetrics is missing")
	}
	for i, d := range meta.CloudWatchMetrics {
		if d.Namespace == nil || *d.Namespace == "" || len(*d.Namespace) > 255 {
			add("CloudWatchMetrics[%d].Namespace is missing, empty or longer than 255", i)
		}
		if d.Dimensions == nil {
			add("CloudWatchMetrics[%d].Dimensions is missing", i)
		}
		for j, set := range d.Dimensions {
			if len(set) > 30 {
				add("CloudWatchMetrics[%d].Dimensions[%d] has %d names, more than 30", i, j, len(set))
			}
			for _, name := range set {
				var v string
				if err := json.Unmarshal(root[name], &v); err != nil {
					add("dimension %q is not a string member of the root", name)
				} else if v == "" || len(v) > 1024 {
					add("dimension %q has an empty or too long value", name)
				}
			}
		}
		if len(d.Metrics) == 0 || len(d.Metrics) > 100 {
			add("CloudWatchMetrics[%d].Metrics has %d entries, want 1 to 100", i, len(d.Metrics))
		}
		for _, m := range d.Metrics {
			var def struct {
				Name *string `json:"Name"`
				Unit *string `json:"Unit"`
			}
			if err := json.Unmarshal(m, &def); err != nil || def.Name == nil || *def.Name == "" || len(*def.Name) > 1024 {
				add("metric definition %s has no valid Name", m)
				continue
			}
			if def.Unit != nil && !slices.Contains(units, *def.Unit) {
				add("metric %q: unit %q is not a CloudWatch unit", *def.Name, *def.Unit)
			}
			value, ok := root[*def.Name]
			if !ok {
				add("metric %q has no value at the root", *def.Name)
				continue
			}
			var f float64
			var fs []float64
			if json.Unmarshal(value, &f) != nil && (json.Unmarshal(value, &fs) != nil || len(fs) > 100) {
				add("metric %q: value %s is not a number or an array of at most 100 numbers", *def.Name, value)
			}
		}
	}
	return problems
}

// Blocks returns the lines of a JSON-lines log that carry "_aws".
func Blocks(r io.Reader) ([]map[string]any, [][]byte) {
	var out []map[string]any
	var raws [][]byte
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) != nil || m["_aws"] == nil {
			continue
		}
		out = append(out, m)
		raws = append(raws, slices.Clone(sc.Bytes()))
	}
	return out, raws
}
