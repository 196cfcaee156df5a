package creditanalysis_test

// The checks on what operating the service rests on: the event bus and who
// may write to it, the publisher on the table's stream with its
// dead-letter queue, the alarms on one SNS topic, and the dashboard.

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"

	"creditanalysis/shared/dynamo"
	"creditanalysis/shared/emf"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTemplateEventBus(t *testing.T) {
	tmpl := loadTemplate(t)
	buses := resourcesOfType(tmpl.raw, "AWS::Events::EventBus")
	require.Len(t, buses, 1, "one event bus")
	bus := buses[0]
	name := str(get(tmpl.raw, "Resources", bus, "Properties", "Name", "Fn::Sub"))
	assert.Contains(t, name, "${Stage}", "the bus is named after the stage")

	// events:PutEvents is granted once, to the publisher, on that bus only.
	var grants []string
	for _, fn := range functions(tmpl.raw) {
		for _, p := range list(fn.Props["Policies"]) {
			for _, st := range list(asMap(p)["Statement"]) {
				s := asMap(st)
				actions := list(s["Action"]) // one action or a list
				for _, a := range actions {
					if !strings.HasPrefix(str(a), "events:") {
						continue
					}
					assert.Equal(t, "events:PutEvents", str(a), "%s", fn.ID)
					res, attr := getAttTarget(s["Resource"])
					assert.Equal(t, bus+".Arn", res+"."+attr, "%s: events:PutEvents on the bus only, got %v", fn.ID, s["Resource"])
					grants = append(grants, fn.ID)
				}
			}
		}
	}
	assert.Equal(t, []string{"EventPublisherFunction"}, grants)
	assert.Equal(t, bus, refTarget(get(tmpl.raw, "Globals", "Function", "Environment", "Variables", "EVENT_BUS_NAME")))
}

func TestTemplatePublisherReadsTheStream(t *testing.T) {
	tmpl := loadTemplate(t)
	assert.Equal(t, string(dynamo.StreamViewType), get(tmpl.raw, "Resources", "Table", "Properties", "StreamSpecification", "StreamViewType"),
		"the table's stream as dynamo.TableDefinition declares it")
	require.NotNil(t, dynamo.TableDefinition("t").StreamSpecification)

	events := asMap(get(tmpl.raw, "Resources", "EventPublisherFunction", "Properties", "Events"))
	require.Len(t, events, 1)
	for _, e := range events {
		props := asMap(asMap(e)["Properties"])
		assert.Equal(t, "DynamoDB", asMap(e)["Type"])
		res, attr := getAttTarget(props["Stream"])
		assert.Equal(t, "Table.StreamArn", res+"."+attr)
		assert.Equal(t, true, props["BisectBatchOnFunctionError"], "a bad record is isolated")
		assert.NotNil(t, props["MaximumRetryAttempts"], "retries are bounded")
		dlq, attr := getAttTarget(get(props, "DestinationConfig", "OnFailure", "Destination"))
		assert.Equal(t, "Arn", attr)
		assert.Equal(t, "AWS::SQS::Queue", get(tmpl.raw, "Resources", dlq, "Type"), "what still fails goes to a queue")
		// The filter lets through every item that stands for an event.
		var filter map[string]any
		require.NoError(t, json.Unmarshal([]byte(str(list(get(props, "FilterCriteria", "Filters"))[0].(map[string]any)["Pattern"])), &filter))
		var prefixes []string
		for _, p := range list(get(filter, "dynamodb", "Keys", "PK", "S")) {
			prefixes = append(prefixes, str(asMap(p)["prefix"]))
		}
		assert.ElementsMatch(t, []string{"CONSULTATION#", "NEGATIVATION#", "BILLINGRUN#"}, prefixes)
	}
}

// alarmMetrics names every metric an alarm reads, with its namespace.
func alarmMetrics(props map[string]any) []string {
	var out []string
	if m := str(props["MetricName"]); m != "" {
		out = append(out, namespaceOf(props["Namespace"])+"/"+m)
	}
	for _, q := range list(props["Metrics"]) {
		if m := str(get(q, "MetricStat", "Metric", "MetricName")); m != "" {
			out = append(out, namespaceOf(get(q, "MetricStat", "Metric", "Namespace"))+"/"+m)
		}
	}
	return out
}

func namespaceOf(v any) string {
	if s := str(asMap(v)["Fn::Sub"]); s != "" {
		return s
	}
	return str(v)
}

func TestTemplateAlarms(t *testing.T) {
	tmpl := loadTemplate(t)
	topics := resourcesOfType(tmpl.raw, "AWS::SNS::Topic")
	require.Len(t, topics, 1, "one alarm topic")
	topic := topics[0]

	subs := resourcesOfType(tmpl.raw, "AWS::SNS::Subscription")
	require.Len(t, subs, 1)
	sub := asMap(get(tmpl.raw, "Resources", subs[0]))
	assert.Equal(t, "HasAlarmEmail", sub["Condition"], "the e-mail subscription is optional")
	assert.Equal(t, "email", get(sub, "Properties", "Protocol"))
	assert.Equal(t, "AlarmEmail", refTarget(get(sub, "Properties", "Endpoint")))
	assert.Equal(t, "", get(tmpl.raw, "Parameters", "AlarmEmail", "Default"))

	ns := namespaceOf(get(tmpl.raw, "Globals", "Function", "Environment", "Variables", emf.EnvNamespace))
	require.NotEmpty(t, ns, "Globals set %s", emf.EnvNamespace)

	watched := map[string]string{} // metric -> alarm
	for _, id := range resourcesOfType(tmpl.raw, "AWS::CloudWatch::Alarm") {
		props := asMap(get(tmpl.raw, "Resources", id, "Properties"))
		assert.Contains(t, list(props["AlarmActions"]), map[string]any{"Ref": topic}, "%s notifies the topic", id)
		assert.NotEmpty(t, props["AlarmDescription"], id)
		for _, m := range alarmMetrics(props) {
			watched[m] = id
		}
	}

	// Every dead-letter queue: the billing rule's asynchronous invocations,
	// its daily schedule's (created by SAM), the publisher's.
	for _, q := range []string{"BillingRuleDeadLetterQueue", "BillingRuleScheduleDeadLetterQueue", "EventPublisherDeadLetterQueue"} {
		found := false
		for _, id := range resourcesOfType(tmpl.raw, "AWS::CloudWatch::Alarm") {
			props := asMap(get(tmpl.raw, "Resources", id, "Properties"))
			if str(props["MetricName"]) == "ApproximateNumberOfMessagesVisible" && strings.Contains(dimensionValue(props), q) {
				found = true
			}
		}
		assert.True(t, found, "no alarm on messages in %s", q)
	}
	// Errors and throttles of every function.
	for _, fn := range functions(tmpl.raw) {
		for _, metric := range []string{"Errors", "Throttles"} {
			found := false
			for _, id := range resourcesOfType(tmpl.raw, "AWS::CloudWatch::Alarm") {
				for _, q := range list(get(tmpl.raw, "Resources", id, "Properties", "Metrics")) {
					m := get(q, "MetricStat", "Metric")
					if str(get(m, "MetricName")) == metric && str(get(m, "Namespace")) == "AWS/Lambda" &&
						refTarget(get(list(get(m, "Dimensions"))[0], "Value")) == fn.ID {
						found = true
					}
				}
			}
			assert.True(t, found, "no alarm on %s of %s", metric, fn.ID)
		}
	}
	// The service's own metrics, by the names the code writes.
	for _, metric := range []string{emf.MetricBillingRunsFailed, emf.MetricBillingRunsFinished, emf.MetricRemovalsOverdue, "BureauErrors", "BureauCalls"} {
		assert.Contains(t, watched, ns+"/"+metric, "no alarm reads %s", metric)
	}
	missing := asMap(get(tmpl.raw, "Resources", watched[ns+"/"+emf.MetricBillingRunsFinished], "Properties"))
	period, _ := missing["Period"].(float64)
	evals, _ := missing["EvaluationPeriods"].(float64)
	assert.Equal(t, 26.0*3600, period*evals, "no finished run in 26 h")
	assert.Equal(t, "breaching", missing["TreatMissingData"], "no data is no run")

	rate := asMap(get(tmpl.raw, "Resources", watched[ns+"/BureauErrors"], "Properties"))
	assert.Equal(t, 5.0, rate["Threshold"])
	for _, q := range list(rate["Metrics"]) {
		if p, ok := get(q, "MetricStat", "Period").(float64); ok {
			assert.Equal(t, 900.0, p, "over 15 minutes")
		}
		if e := str(asMap(q)["Expression"]); e != "" {
			assert.Regexp(t, regexp.MustCompile(`100 \* errors / calls`), e)
		}
	}
}

func dimensionValue(props map[string]any) string {
	var out []string
	for _, d := range list(props["Dimensions"]) {
		v := get(d, "Value")
		res, attr := getAttTarget(v)
		out = append(out, res+"."+attr+refTarget(v))
	}
	return strings.Join(out, ",")
}

func TestTemplateDashboard(t *testing.T) {
	tmpl := loadTemplate(t)
	dashboards := resourcesOfType(tmpl.raw, "AWS::CloudWatch::Dashboard")
	require.Len(t, dashboards, 1)
	body := str(get(tmpl.raw, "Resources", dashboards[0], "Properties", "DashboardBody", "Fn::Sub"))
	var doc struct {
		Widgets []struct {
			Type       string         `json:"type"`
			Properties map[string]any `json:"properties"`
		} `json:"widgets"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &doc), "the body is JSON once substituted")
	require.NotEmpty(t, doc.Widgets)
	assert.Equal(t, "alarm", doc.Widgets[0].Type, "the alarms come first")
	var shown []string
	for _, a := range list(doc.Widgets[0].Properties["alarms"]) {
		shown = append(shown, strings.TrimSuffix(strings.TrimPrefix(str(a), "${"), ".Arn}"))
	}
	alarms := resourcesOfType(tmpl.raw, "AWS::CloudWatch::Alarm")
	slices.Sort(shown)
	assert.Equal(t, alarms, shown, "the dashboard shows every alarm")
	for _, metric := range []string{emf.MetricConsultations, "BureauLatency", emf.MetricInclusions, emf.MetricRemovals,
		emf.MetricNegativationFailures, emf.MetricBillingRunDuration, emf.MetricRemovalsOverdue} {
		assert.Contains(t, body, metric, "the dashboard shows %s", metric)
	}
}
