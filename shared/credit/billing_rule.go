package credit

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"time"
)

// BillingRule is the daily automation (régua de cobrança, rule 10): for
// every integration with automation enabled it removes the negativations
// whose invoice was paid or cancelled, syncs the pending ones with the
// bureau, and includes the open invoices overdue by the integration's
// daysAfterDue (at most 5 years), with the integration's codes, through
// the negativation service's own operations.
//
// It never includes or removes twice, whatever runs at the same time: each
// inclusion is the service's conditional write per invoice (a second one is
// already_negativated, counted as a skip) and each removal a conditional
// change of status. It stops taking work before its deadline and records
// how far it got; the next run of the same day resumes there.
type BillingRule struct {
	Store         BillingStore
	Negativations *NegativationService
	// Starter executes a run apart from the request that recorded it
	// (manual runs and the continuation of a run stopped at its deadline).
	Starter BillingRunStarter
	Config  BillingRuleConfig
	// NewLimiter builds an integration's rate limit towards the bureau; a
	// rate.Limiter from Config when nil.
	NewLimiter func(integrationID string) Limiter
	Now        Clock
	NewID      func() string
	Log        *slog.Logger
}

// Limiter paces calls; *rate.Limiter is one.
type Limiter interface {
	Wait(ctx context.Context) error
}

// BillingRuleConfig tunes a run; zero fields take the defaults.
type BillingRuleConfig struct {
	// BureauConcurrency bounds the bureau calls in flight in a run.
	BureauConcurrency int
	// Workers is how many invoices and removals are worked on at once:
	// more than BureauConcurrency, so that one item's reads and writes
	// overlap another's bureau call and the bureau is never kept waiting.
	Workers int
	// IntegrationsAtOnce is how many integrations are walked at the same
	// time: one integration's rate limit, or the pause while its removals
	// end and its sync runs, does not hold the others back.
	IntegrationsAtOnce int
	// RatePerIntegration bounds an integration's bureau calls per second
	// (Burst at once).
	RatePerIntegration float64
	Burst              int
	// SafetyMargin is how long before the deadline the run stops taking
	// work, so that what is in flight ends and the run is recorded in
	// time; at most a quarter of the time the run has.
	SafetyMargin time.Duration
	// CheckpointEvery is how many finished items go between writes of the
	// run's progress.
	CheckpointEvery int
	// PageSize is how many open invoices are read at a time.
	PageSize int
}

// Defaults of BillingRuleConfig.
const (
	DefaultBillingConcurrency     = 10
	DefaultBillingIntegrations    = 4
	DefaultBillingRate            = 20
	DefaultBillingSafetyMargin    = 60 * time.Second
	DefaultBillingCheckpointEvery = 200
	DefaultBillingPageSize        = 100
)

func (c BillingRuleConfig) withDefaults() BillingRuleConfig {
	if c.BureauConcurrency <= 0 {
		c.BureauConcurrency = DefaultBillingConcurrency
	}
	if c.Workers <= 0 {
		c.Workers = 4 * c.BureauConcurrency
	}
	if c.IntegrationsAtOnce <= 0 {
		c.IntegrationsAtOnce = DefaultBillingIntegrations
	}
	if c.RatePerIntegration <= 0 {
		c.RatePerIntegration = DefaultBillingRate
	}
	if c.Burst <= 0 {
		c.Burst = c.BureauConcurrency
	}
	if c.SafetyMargin <= 0 {
		c.SafetyMargin = DefaultBillingSafetyMargin
	}
	if c.CheckpointEvery <= 0 {
		c.CheckpointEvery = DefaultBillingCheckpointEvery
	}
	if c.PageSize <= 0 {
		c.PageSize = DefaultBillingPageSize
	}
	return c
}

// Get returns one run.
func (r *BillingRule) Get(ctx context.Context, id string) (BillingRun, error) {
	run, err := r.Store.GetBillingRun(ctx, id)
	if err != nil {
		return run, err
	}
	runs, err := r.keptToBranches(ctx, []BillingRun{run})
	if err != nil {
		return BillingRun{}, err
	}
	return runs[0], nil
}

// List returns one page of runs, newest first.
func (r *BillingRule) List(ctx context.Context, p Page) ([]BillingRun, string, error) {
	runs, next, err := r.Store.ListBillingRuns(ctx, p.Normalized())
	if err != nil {
		return nil, "", err
	}
	runs, err = r.keptToBranches(ctx, runs)
	return runs, next, err
}

// StartRequest is an admin's "run it now".
type StartRequest struct {
	// DryRun asks only what a run would do now: it is recorded as a run
	// with its counts and preview, calls no bureau and writes no
	// negativation.
	DryRun bool
}

// Start records a manual run for the caller and has it executed
// asynchronously; with the master switch off the run removes and syncs
// only. 409 billing_run_in_progress while another run of the same kind
// (dry or not) works; 503 billing_run_not_started when it could not be
// handed over (the run is then recorded failed).
func (r *BillingRule) Start(ctx context.Context, req StartRequest) (BillingRun, error) {
	now := r.Now.Now()
	if live, found, err := r.liveRun(ctx, now, req.DryRun); err != nil {
		return BillingRun{}, err
	} else if found {
		return BillingRun{}, Errorf(KindConflict, CodeBillingRunInProgress,
			"Já existe uma execução da régua de cobrança em andamento (ID %s).", live.ID).
			WithDetails(map[string]any{"id": live.ID})
	}
	run := BillingRun{ID: r.NewID(), Trigger: TriggerManual, RequestedBy: who(ctx), Status: BillingRunRunning,
		Day: DateOf(now, SaoPaulo()), StartedAt: now, DryRun: req.DryRun, Version: 1}
	if err := r.Store.CreateBillingRun(ctx, run); err != nil {
		return BillingRun{}, err
	}
	if err := r.Starter.StartBillingRun(ctx, run.ID); err != nil {
		r.log().ErrorContext(WithLogAttrs(ctx, slog.String("runId", run.ID)), "billing run not handed over", slog.String("error", err.Error()))
		failed := NewError(KindUnavailable, CodeBillingRunNotStarted, "Não foi possível iniciar a execução da régua de cobrança; tente novamente.")
		r.markFailed(context.WithoutCancel(ctx), run.ID, failed)
		return BillingRun{}, failed.WithCause(err)
	}
	return run, nil
}

// liveRun finds a run of the kind asked (dry or not) that is working now
// among the latest ones: a dry run never holds back a real one.
func (r *BillingRule) liveRun(ctx context.Context, now time.Time, dry bool) (BillingRun, bool, error) {
	runs, _, err := r.Store.ListBillingRuns(ctx, Page{Limit: 20})
	if err != nil {
		return BillingRun{}, false, err
	}
	for _, run := range runs {
		if run.DryRun == dry && run.Status == BillingRunRunning && !run.Abandoned(now) {
			return run, true, nil
		}
	}
	return BillingRun{}, false, nil
}

func (r *BillingRule) markFailed(ctx context.Context, id string, cause *Error) {
	_, err := r.Store.UpdateBillingRun(ctx, id, func(cur *BillingRun) error {
		if cur.Status != BillingRunRunning {
			return ErrNoChange
		}
		now := r.Now.Now()
		cur.Status, cur.FinishedAt = BillingRunFailed, now
		cur.addError(BillingRunError{At: now, Code: cause.Code, Message: cause.Message})
		return nil
	})
	if err != nil {
		r.log().ErrorContext(WithLogAttrs(ctx, slog.String("runId", id)), "billing run not marked failed", slog.String("error", err.Error()))
	}
}

// RunScheduled records a run of the schedule and executes it now, until
// deadline (none when zero). The error is only for what a retry of the
// invocation may fix (the table unreachable); the run records the rest.
func (r *BillingRule) RunScheduled(ctx context.Context, deadline time.Time) (BillingRun, error) {
	now := r.Now.Now()
	run := BillingRun{ID: r.NewID(), Trigger: TriggerSchedule, RequestedBy: BillingRuleActor, Status: BillingRunRunning,
		Day: DateOf(now, SaoPaulo()), StartedAt: now, LeaseUntil: leaseFor(deadline, now), Version: 1}
	if err := r.Store.CreateBillingRun(ctx, run); err != nil {
		return BillingRun{}, err
	}
	return r.execute(ctx, run, deadline)
}

// Execute runs a recorded run (its asynchronous invocation), until
// deadline (none when zero). A run already finished, or held by a live
// invocation (a repeated delivery), is returned as it is; a run whose
// invocation was lost is taken over from where it got. Errors as
// RunScheduled's.
func (r *BillingRule) Execute(ctx context.Context, id string, deadline time.Time) (BillingRun, error) {
	errBusy := errors.New("held")
	var seen BillingRun
	run, err := r.Store.UpdateBillingRun(ctx, id, func(cur *BillingRun) error {
		now := r.Now.Now()
		seen = *cur
		if cur.Status != BillingRunRunning || (!cur.LeaseUntil.IsZero() && !cur.Abandoned(now)) {
			return errBusy
		}
		cur.LeaseUntil = leaseFor(deadline, now)
		return nil
	})
	if errors.Is(err, errBusy) {
		r.log().InfoContext(WithLogAttrs(ctx, slog.String("runId", id)), "billing run not executed: finished or held by another invocation",
			slog.String("status", string(seen.Status)))
		return seen, nil
	}
	if err != nil {
		return BillingRun{}, err
	}
	return r.execute(ctx, run, deadline)
}

// leaseFor is how long an invocation holds a run: its deadline, or (with
// none) a while that each checkpoint renews.
func leaseFor(deadline, now time.Time) time.Time {
	if !deadline.IsZero() {
		return deadline
	}
	return now.Add(billingRunPickupTimeout)
}

// resumable is the latest other run of run's day, when it stopped before
// the end: run picks up where it got. Dry runs are never resumed.
func (r *BillingRule) resumable(ctx context.Context, run BillingRun) (BillingRun, bool, error) {
	runs, _, err := r.Store.ListBillingRuns(ctx, Page{Limit: 20})
	if err != nil {
		return BillingRun{}, false, err
	}
	for _, prev := range runs {
		if prev.ID == run.ID || prev.DryRun {
			continue
		}
		if prev.Day != run.Day || !prev.Unfinished(r.Now.Now()) {
			return BillingRun{}, false, nil
		}
		return prev, true, nil
	}
	return BillingRun{}, false, nil
}

func (p BillingPosition) empty() bool { return len(p.Done) == 0 && len(p.Partial) == 0 }

// execute works run through and records how it ended.
func (r *BillingRule) execute(ctx context.Context, run BillingRun, deadline time.Time) (BillingRun, error) {
	// Every line written for the run names it, the services' own included.
	ctx = WithLogAttrs(ctx, slog.String("runId", run.ID))
	log := r.log()
	actor := run.RequestedBy
	if actor.Subject == "" {
		actor = BillingRuleActor
	}
	ctx = WithActor(ctx, actor)

	// A dry run looks at everything afresh; it picks up no real run.
	if !run.DryRun && run.Position.empty() && run.ResumedFrom == "" {
		prev, found, err := r.resumable(ctx, run)
		if err != nil {
			return r.finish(ctx, log, run, BillingRunFailed, err)
		}
		if found {
			if prev.Status == BillingRunRunning {
				r.markFailed(ctx, prev.ID, NewError(KindInternal, CodeBillingRunLost,
					"A execução foi interrompida antes do fim; a seguinte retomou de onde ela parou."))
			}
			run, err = r.Store.UpdateBillingRun(ctx, run.ID, func(cur *BillingRun) error {
				cur.ResumedFrom, cur.Position = prev.ID, prev.Position.clone()
				return nil
			})
			if err != nil {
				return r.finish(ctx, log, run, BillingRunFailed, err)
			}
		}
	}
	log.InfoContext(ctx, "billing run started", slog.String("trigger", string(run.Trigger)), slog.Bool("dryRun", run.DryRun), slog.String("day", run.Day.String()),
		slog.String("resumedFrom", run.ResumedFrom), slog.Int("integrationsDone", len(run.Position.Done)))

	// The master switch stops inclusions only: a paid debt must still come
	// off the bureau within 5 business days (STJ Súmula 548).
	params, err := r.Negativations.Parameters.GetParameters(ctx)
	if err != nil {
		return r.finish(ctx, log, run, BillingRunFailed, err)
	}

	w := r.newWalk(ctx, run, deadline, log)
	if !params.CreditAnalysisEnabled {
		w.stopInclusions()
	}
	status, err := w.walk(ctx)
	run.Counts, run.Errors, run.Position = w.progress.snapshot()
	run.Preview = w.progress.previewSnapshot()
	finished, ferr := r.finish(ctx, log, run, status, err)
	if ferr == nil && status == BillingRunStoppedAtDeadline && w.progress.advanced() && !run.DryRun {
		r.continueRun(ctx, log, finished)
	}
	return finished, ferr
}

// finish records how the run ended; the error returned is the one a retry
// may fix.
func (r *BillingRule) finish(ctx context.Context, log *slog.Logger, run BillingRun, status BillingRunStatus, cause error) (BillingRun, error) {
	now := r.Now.Now()
	if cause != nil {
		run.addError(BillingRunError{At: now, Code: ErrorCode(cause), Message: ErrorMessage(cause)})
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), outcomeTimeout)
	defer cancel()
	saved, err := r.Store.UpdateBillingRun(wctx, run.ID, func(cur *BillingRun) error {
		cur.Status, cur.FinishedAt = status, now
		cur.Counts, cur.Errors, cur.Position = run.Counts.clone(), slices.Clone(run.Errors), run.Position.clone()
		cur.ResumedFrom = run.ResumedFrom
		if cur.DryRun {
			cur.Preview = run.Preview.clone()
		}
		return nil
	})
	if err != nil {
		log.ErrorContext(ctx, "billing run end not recorded", slog.String("status", string(status)), slog.String("error", err.Error()))
		return run, err
	}
	attrs := []any{slog.String("status", string(status)), slog.Int("examined", saved.Counts.Examined),
		slog.Int("included", saved.Counts.Included), slog.Int("removed", saved.Counts.Removed),
		slog.Int("synced", saved.Counts.Synced), slog.Any("skipped", saved.Counts.Skipped), slog.Int("failed", saved.Counts.Failed),
		slog.Int64("durationMs", now.Sub(saved.StartedAt).Milliseconds())}
	if cause != nil {
		log.ErrorContext(ctx, "billing run failed", append(attrs, slog.String("error", cause.Error()))...)
		if ErrorKind(cause) == KindInternal {
			return saved, cause
		}
		return saved, nil
	}
	log.InfoContext(ctx, "billing run ended", attrs...)
	return saved, nil
}

// continueRun records the continuation of a run stopped at its deadline and
// has it executed at once, so that the rest of the day's work does not wait
// for tomorrow.
func (r *BillingRule) continueRun(ctx context.Context, log *slog.Logger, prev BillingRun) {
	if r.Starter == nil {
		return
	}
	now := r.Now.Now()
	next := BillingRun{ID: r.NewID(), Trigger: prev.Trigger, RequestedBy: prev.RequestedBy, Status: BillingRunRunning,
		Day: prev.Day, StartedAt: now, Position: prev.Position.clone(), ResumedFrom: prev.ID, Version: 1}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), outcomeTimeout)
	defer cancel()
	if err := r.Store.CreateBillingRun(wctx, next); err != nil {
		log.ErrorContext(ctx, "billing run continuation not recorded", slog.String("error", err.Error()))
		return
	}
	if err := r.Starter.StartBillingRun(wctx, next.ID); err != nil {
		log.ErrorContext(ctx, "billing run continuation not handed over", slog.String("continuation", next.ID), slog.String("error", err.Error()))
		r.markFailed(wctx, next.ID, NewError(KindUnavailable, CodeBillingRunNotStarted, "A continuação da execução não pôde ser iniciada."))
		return
	}
	log.InfoContext(ctx, "billing run continues", slog.String("continuation", next.ID))
}

func (r *BillingRule) log() *slog.Logger {
	if r.Log != nil {
		return r.Log
	}
	return slog.Default()
}
