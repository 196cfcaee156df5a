// Package billingrule wires the billing rule (régua de cobrança): its
// configuration, the rule on the negativation service of package bureau,
// and the billing-rule function's one Lambda entry for the schedule's
// event, the API's requests and its own asynchronous invocations. Only the
// billing-rule function imports it, so only it links the Lambda client.
package billingrule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"time"

	"creditanalysis/shared/app"
	"creditanalysis/shared/app/bureau"
	"creditanalysis/shared/awslambda"
	"creditanalysis/shared/credit"
	"creditanalysis/shared/emf"
	"creditanalysis/shared/httpapi"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
)

// Environment of the billing-rule function.
const (
	// EnvFunctionName names the function a manual run is handed to
	// (itself); empty runs it in this process (the local runner).
	EnvFunctionName = "BILLING_RULE_FUNCTION_NAME"
	// EnvConcurrency bounds the bureau calls in flight.
	EnvConcurrency = "BILLING_RULE_CONCURRENCY"
	// EnvRate bounds each integration's bureau calls per second.
	EnvRate = "BILLING_RULE_RATE_PER_INTEGRATION"
	// EnvSafetyMargin is how long before the deadline a run stops taking
	// work (a Go duration).
	EnvSafetyMargin = "BILLING_RULE_SAFETY_MARGIN"
)

// Config is what the environment tells the billing rule.
type Config struct {
	// Rule tunes a run; unset variables take the defaults.
	Rule credit.BillingRuleConfig
	// FunctionName is the function a manual run is handed to; empty runs
	// it in a goroutine of this process.
	FunctionName string
}

// ConfigFromEnv reads Config from the environment. A variable set to a
// value out of range is an error, never a silent default.
func ConfigFromEnv() (Config, error) {
	c := Config{FunctionName: os.Getenv(EnvFunctionName)}
	if v := os.Getenv(EnvConcurrency); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 200 {
			return Config{}, fmt.Errorf("%s: want 1..200, got %q", EnvConcurrency, v)
		}
		c.Rule.BureauConcurrency = n
	}
	if v := os.Getenv(EnvRate); v != "" {
		r, err := strconv.ParseFloat(v, 64)
		if err != nil || r <= 0 {
			return Config{}, fmt.Errorf("%s: want calls per second above 0, got %q", EnvRate, v)
		}
		c.Rule.RatePerIntegration = r
	}
	if v := os.Getenv(EnvSafetyMargin); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return Config{}, fmt.Errorf("%s: want a duration such as 60s, got %q", EnvSafetyMargin, v)
		}
		c.Rule.SafetyMargin = d
	}
	return c, nil
}

// Lambda is the Lambda invoker on cfg, which hands manual runs over.
func Lambda(cfg aws.Config) *awslambda.Invoker {
	return &awslambda.Invoker{Config: cfg, Endpoint: aws.ToString(app.ServiceEndpoint(cfg, "LAMBDA"))}
}

// Rule is the billing rule on b's adapters, logging to log. A manual run
// goes to an asynchronous invocation of cfg.FunctionName through invoker,
// or, with no function name, to a goroutine of this process.
func Rule(b *bureau.App, cfg Config, invoker awslambda.AsyncInvoker, log *slog.Logger) *credit.BillingRule {
	r := &credit.BillingRule{
		Store: b.Store, Negativations: b.Negativations(), Config: cfg.Rule,
		Now: b.Now, NewID: b.NewID, Log: log,
	}
	if cfg.FunctionName != "" {
		r.Starter = &awslambda.RunStarter{Client: invoker, FunctionName: cfg.FunctionName}
	} else {
		r.Starter = inProcess{rule: r}
	}
	return r
}

// inProcess executes a run in a goroutine of this process, detached from
// the request: the local runner's way (a Lambda is frozen once it answers).
type inProcess struct{ rule *credit.BillingRule }

func (p inProcess) StartBillingRun(ctx context.Context, runID string) error {
	go func() {
		// Execute records how the run ended and logs any failure.
		_, _ = p.rule.Execute(context.WithoutCancel(ctx), runID, time.Time{})
	}()
	return nil
}

// Handler is the billing rule's HTTP area on Rule.
func Handler(b *bureau.App, cfg Config, invoker awslambda.AsyncInvoker) *httpapi.BillingRuleHandler {
	return &httpapi.BillingRuleHandler{Rule: Rule(b, cfg, invoker, b.Log)}
}

// CheckOverdueRemovals runs after the schedule's run: it records each
// paid or cancelled debt still registered past its removal deadline (once
// per record, which publishes one Negativation Removal Overdue event) and
// writes the RemovalsOverdue gauge the alarm reads. A retry of the
// invocation repeats it harmlessly.
func CheckOverdueRemovals(ctx context.Context, b *bureau.App) error {
	o, err := b.Negativations().CheckOverdueRemovals(ctx, b.Store)
	if err != nil {
		b.Log.ErrorContext(ctx, "overdue removals check failed", slog.String("error", err.Error()))
		return err
	}
	emf.Write(ctx, b.Log, emf.OverdueBlock(emf.Namespace(), o))
	if o.Overdue > 0 {
		b.Log.WarnContext(ctx, "removals overdue", slog.Int("overdue", o.Overdue), slog.Int("newlyRecorded", o.Recorded))
	}
	return nil
}

// Function is the billing-rule function's one Lambda entry: the schedule's
// event, the API's requests and its own asynchronous invocations.
func Function(b *bureau.App, cfg Config, invoker awslambda.AsyncInvoker) *awslambda.Handler {
	// One rule for every invocation: the handler puts the invocation's
	// request id in the context, which every log line carries.
	rule := Rule(b, cfg, invoker, b.Log)
	return &awslambda.Handler{
		HTTP: b.Server(&httpapi.BillingRuleHandler{Rule: rule}),
		Scheduled: func(ctx context.Context, e events.EventBridgeEvent) error {
			deadline, _ := ctx.Deadline()
			_, err := rule.RunScheduled(ctx, deadline)
			return errors.Join(err, CheckOverdueRemovals(ctx, b))
		},
		RunRequested: func(ctx context.Context, runID string) error {
			deadline, _ := ctx.Deadline()
			_, err := rule.Execute(ctx, runID, deadline)
			if credit.ErrorKind(err) == credit.KindNotFound {
				b.Log.ErrorContext(ctx, "run requested for an unknown run", slog.String("runId", runID))
				return nil // no retry will make it exist
			}
			return err
		},
		Log: b.Log,
	}
}
