package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"time"

	"creditanalysis/shared/awslambda"
	"creditanalysis/shared/credit"
	"creditanalysis/shared/httpapi"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	awslambdasdk "github.com/aws/aws-sdk-go-v2/service/lambda"
)

// Environment of the billing-rule function.
const (
	// EnvBillingRuleFunctionName names the function a manual run is handed
	// to (itself); empty runs it in this process (the local runner).
	EnvBillingRuleFunctionName = "BILLING_RULE_FUNCTION_NAME"
	// EnvBillingRuleConcurrency bounds the bureau calls in flight.
	EnvBillingRuleConcurrency = "BILLING_RULE_CONCURRENCY"
	// EnvBillingRuleRate bounds each integration's bureau calls per second.
	EnvBillingRuleRate = "BILLING_RULE_RATE_PER_INTEGRATION"
	// EnvBillingRuleSafetyMargin is how long before the deadline a run
	// stops taking work (a Go duration).
	EnvBillingRuleSafetyMargin = "BILLING_RULE_SAFETY_MARGIN"
)

func init() {
	registerArea("billing-rule", func(a *App) httpapi.Area {
		cfg, err := BillingRuleConfigFromEnv()
		if err != nil {
			a.log.Error("billing rule configuration; defaults used", slog.String("error", err.Error()))
		}
		return &httpapi.BillingRuleHandler{Rule: a.BillingRule(cfg, a.log)}
	})
}

// BillingRuleConfigFromEnv reads the run's tuning; unset variables take
// the defaults.
func BillingRuleConfigFromEnv() (credit.BillingRuleConfig, error) {
	var c credit.BillingRuleConfig
	if v := os.Getenv(EnvBillingRuleConcurrency); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 200 {
			return credit.BillingRuleConfig{}, fmt.Errorf("%s: want 1..200, got %q", EnvBillingRuleConcurrency, v)
		}
		c.BureauConcurrency = n
	}
	if v := os.Getenv(EnvBillingRuleRate); v != "" {
		r, err := strconv.ParseFloat(v, 64)
		if err != nil || r <= 0 {
			return credit.BillingRuleConfig{}, fmt.Errorf("%s: want calls per second above 0, got %q", EnvBillingRuleRate, v)
		}
		c.RatePerIntegration = r
	}
	if v := os.Getenv(EnvBillingRuleSafetyMargin); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return credit.BillingRuleConfig{}, fmt.Errorf("%s: want a duration such as 60s, got %q", EnvBillingRuleSafetyMargin, v)
		}
		c.SafetyMargin = d
	}
	return c, nil
}

// BillingRule is the billing rule on the app's adapters, logging to log.
// A manual run goes to an asynchronous invocation of the function named by
// BILLING_RULE_FUNCTION_NAME, or, with none, to a goroutine of this
// process.
func (a *App) BillingRule(cfg credit.BillingRuleConfig, log *slog.Logger) *credit.BillingRule {
	r := &credit.BillingRule{
		Store: a.store, Negativations: a.Negativations(), Config: cfg,
		Now: a.now, NewID: a.newID, Log: log,
	}
	if name := os.Getenv(EnvBillingRuleFunctionName); name != "" {
		r.Starter = &lazyInvoker{name: name}
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

// lambdaClient is built once per cold start, on the first run handed over.
var lambdaClient = sync.OnceValues(func() (*awslambdasdk.Client, error) {
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		return nil, err
	}
	return awslambdasdk.NewFromConfig(cfg), nil
})

// lazyInvoker is awslambda.RunStarter on lambdaClient.
type lazyInvoker struct{ name string }

func (l *lazyInvoker) StartBillingRun(ctx context.Context, runID string) error {
	client, err := lambdaClient()
	if err != nil {
		return credit.Internal(err, "lambda client")
	}
	return (&awslambda.RunStarter{Client: client, FunctionName: l.name}).StartBillingRun(ctx, runID)
}

// BillingRuleMain is the whole body of the billing-rule function's main: one
// Lambda for the schedule's event, the API's requests and its own
// asynchronous invocations.
func BillingRuleMain() {
	a := MustFromEnvironment()
	cfg, err := BillingRuleConfigFromEnv()
	if err != nil {
		a.log.Error("configuration", slog.String("error", err.Error()))
		os.Exit(1)
	}
	// One rule for every invocation: the handler puts the invocation's
	// request id in the context, which every log line carries.
	rule := a.BillingRule(cfg, a.log)
	h := &awslambda.Handler{
		HTTP: a.Server(&httpapi.BillingRuleHandler{Rule: rule}),
		Scheduled: func(ctx context.Context, e events.EventBridgeEvent) error {
			deadline, _ := ctx.Deadline()
			_, err := rule.RunScheduled(ctx, deadline)
			return err
		},
		RunRequested: func(ctx context.Context, runID string) error {
			deadline, _ := ctx.Deadline()
			_, err := rule.Execute(ctx, runID, deadline)
			if credit.ErrorKind(err) == credit.KindNotFound {
				a.log.ErrorContext(ctx, "run requested for an unknown run", slog.String("runId", runID))
				return nil // no retry will make it exist
			}
			return err
		},
		Log: a.log,
	}
	lambda.Start(h.Invoke)
}
