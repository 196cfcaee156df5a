package credit

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"

	"golang.org/x/time/rate"
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
	Now        func() time.Time
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
	return r.Store.GetBillingRun(ctx, id)
}

// List returns one page of runs, newest first.
func (r *BillingRule) List(ctx context.Context, p Page) ([]BillingRun, string, error) {
	return r.Store.ListBillingRuns(ctx, p.Normalized())
}

// Start records a manual run for the caller and has it executed
// asynchronously. 403 credit_analysis_disabled while the master switch is
// off; 409 billing_run_in_progress while another run works; 503
// billing_run_not_started when it could not be handed over (the run is
// then recorded failed).
func (r *BillingRule) Start(ctx context.Context) (BillingRun, error) {
	if err := RequireEnabled(ctx, r.Negativations.Parameters); err != nil {
		return BillingRun{}, err
	}
	now := r.now()
	if live, found, err := r.liveRun(ctx, now); err != nil {
		return BillingRun{}, err
	} else if found {
		return BillingRun{}, Errorf(KindConflict, CodeBillingRunInProgress,
			"Já existe uma execução da régua de cobrança em andamento (ID %s).", live.ID).
			WithDetails(map[string]any{"id": live.ID})
	}
	run := BillingRun{ID: r.NewID(), Trigger: TriggerManual, RequestedBy: who(ctx), Status: BillingRunRunning,
		Day: DateOf(now, SaoPaulo), StartedAt: now, Version: 1}
	if err := r.Store.CreateBillingRun(ctx, run); err != nil {
		return BillingRun{}, err
	}
	if err := r.Starter.StartBillingRun(ctx, run.ID); err != nil {
		r.log().Error("billing run not handed over", slog.String("runId", run.ID), slog.String("error", err.Error()))
		failed := NewError(KindUnavailable, CodeBillingRunNotStarted, "Não foi possível iniciar a execução da régua de cobrança; tente novamente.")
		r.markFailed(context.WithoutCancel(ctx), run.ID, failed)
		return BillingRun{}, failed.WithCause(err)
	}
	return run, nil
}

// liveRun finds a run that is working now among the latest ones.
func (r *BillingRule) liveRun(ctx context.Context, now time.Time) (BillingRun, bool, error) {
	runs, _, err := r.Store.ListBillingRuns(ctx, Page{Limit: 20})
	if err != nil {
		return BillingRun{}, false, err
	}
	for _, run := range runs {
		if run.Status == BillingRunRunning && !run.Abandoned(now) {
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
		now := r.now()
		cur.Status, cur.FinishedAt = BillingRunFailed, now
		cur.addError(BillingRunError{At: now, Code: cause.Code, Message: cause.Message})
		return nil
	})
	if err != nil {
		r.log().Error("billing run not marked failed", slog.String("runId", id), slog.String("error", err.Error()))
	}
}

// RunScheduled records a run of the schedule and executes it now, until
// deadline (none when zero). The error is only for what a retry of the
// invocation may fix (the table unreachable); the run records the rest.
func (r *BillingRule) RunScheduled(ctx context.Context, deadline time.Time) (BillingRun, error) {
	now := r.now()
	run := BillingRun{ID: r.NewID(), Trigger: TriggerSchedule, RequestedBy: BillingRuleActor, Status: BillingRunRunning,
		Day: DateOf(now, SaoPaulo), StartedAt: now, LeaseUntil: leaseFor(deadline, now), Version: 1}
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
		now := r.now()
		seen = *cur
		if cur.Status != BillingRunRunning || (!cur.LeaseUntil.IsZero() && !cur.Abandoned(now)) {
			return errBusy
		}
		cur.LeaseUntil = leaseFor(deadline, now)
		return nil
	})
	if errors.Is(err, errBusy) {
		r.log().Info("billing run not executed: finished or held by another invocation",
			slog.String("runId", id), slog.String("status", string(seen.Status)))
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
// the end: run picks up where it got.
func (r *BillingRule) resumable(ctx context.Context, run BillingRun) (BillingRun, bool, error) {
	runs, _, err := r.Store.ListBillingRuns(ctx, Page{Limit: 20})
	if err != nil {
		return BillingRun{}, false, err
	}
	for _, prev := range runs {
		if prev.ID == run.ID {
			continue
		}
		if prev.Day != run.Day || !prev.Unfinished(r.now()) {
			return BillingRun{}, false, nil
		}
		return prev, true, nil
	}
	return BillingRun{}, false, nil
}

func (p BillingPosition) empty() bool { return len(p.Done) == 0 && len(p.Partial) == 0 }

// execute works run through and records how it ended.
func (r *BillingRule) execute(ctx context.Context, run BillingRun, deadline time.Time) (BillingRun, error) {
	log := r.log().With(slog.String("runId", run.ID))
	actor := run.RequestedBy
	if actor.Subject == "" {
		actor = BillingRuleActor
	}
	ctx = WithActor(ctx, actor)

	if run.Position.empty() && run.ResumedFrom == "" {
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
	log.Info("billing run started", slog.String("trigger", string(run.Trigger)), slog.String("day", run.Day.String()),
		slog.String("resumedFrom", run.ResumedFrom), slog.Int("integrationsDone", len(run.Position.Done)))

	if err := RequireEnabled(ctx, r.Negativations.Parameters); err != nil {
		if ErrorCode(err) == CodeCreditAnalysisDisabled {
			run.addError(BillingRunError{At: r.now(), Code: ErrorCode(err), Message: ErrorMessage(err)})
			return r.finish(ctx, log, run, BillingRunFinished, nil)
		}
		return r.finish(ctx, log, run, BillingRunFailed, err)
	}

	w := r.newWalk(ctx, run, deadline, log)
	status, err := w.walk(ctx)
	run.Counts, run.Errors, run.Position = w.progress.snapshot()
	finished, ferr := r.finish(ctx, log, run, status, err)
	if ferr == nil && status == BillingRunStoppedAtDeadline && w.progress.advanced() {
		r.continueRun(ctx, log, finished)
	}
	return finished, ferr
}

// finish records how the run ended; the error returned is the one a retry
// may fix.
func (r *BillingRule) finish(ctx context.Context, log *slog.Logger, run BillingRun, status BillingRunStatus, cause error) (BillingRun, error) {
	now := r.now()
	if cause != nil {
		run.addError(BillingRunError{At: now, Code: ErrorCode(cause), Message: ErrorMessage(cause)})
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), outcomeTimeout)
	defer cancel()
	saved, err := r.Store.UpdateBillingRun(wctx, run.ID, func(cur *BillingRun) error {
		cur.Status, cur.FinishedAt = status, now
		cur.Counts, cur.Errors, cur.Position = run.Counts.clone(), slices.Clone(run.Errors), run.Position.clone()
		cur.ResumedFrom = run.ResumedFrom
		return nil
	})
	if err != nil {
		log.Error("billing run end not recorded", slog.String("status", string(status)), slog.String("error", err.Error()))
		return run, err
	}
	attrs := []any{slog.String("status", string(status)), slog.Int("examined", saved.Counts.Examined),
		slog.Int("included", saved.Counts.Included), slog.Int("removed", saved.Counts.Removed),
		slog.Int("synced", saved.Counts.Synced), slog.Any("skipped", saved.Counts.Skipped), slog.Int("failed", saved.Counts.Failed),
		slog.Int64("durationMs", now.Sub(saved.StartedAt).Milliseconds())}
	if cause != nil {
		log.Error("billing run failed", append(attrs, slog.String("error", cause.Error()))...)
		if ErrorKind(cause) == KindInternal {
			return saved, cause
		}
		return saved, nil
	}
	log.Info("billing run ended", attrs...)
	return saved, nil
}

// continueRun records the continuation of a run stopped at its deadline and
// has it executed at once, so that the rest of the day's work does not wait
// for tomorrow.
func (r *BillingRule) continueRun(ctx context.Context, log *slog.Logger, prev BillingRun) {
	if r.Starter == nil {
		return
	}
	now := r.now()
	next := BillingRun{ID: r.NewID(), Trigger: prev.Trigger, RequestedBy: prev.RequestedBy, Status: BillingRunRunning,
		Day: prev.Day, StartedAt: now, Position: prev.Position.clone(), ResumedFrom: prev.ID, Version: 1}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), outcomeTimeout)
	defer cancel()
	if err := r.Store.CreateBillingRun(wctx, next); err != nil {
		log.Error("billing run continuation not recorded", slog.String("error", err.Error()))
		return
	}
	if err := r.Starter.StartBillingRun(wctx, next.ID); err != nil {
		log.Error("billing run continuation not handed over", slog.String("continuation", next.ID), slog.String("error", err.Error()))
		r.markFailed(wctx, next.ID, NewError(KindUnavailable, CodeBillingRunNotStarted, "A continuação da execução não pôde ser iniciada."))
		return
	}
	log.Info("billing run continues", slog.String("continuation", next.ID))
}

func (r *BillingRule) now() time.Time {
	if r.Now != nil {
		return r.Now().UTC().Truncate(time.Millisecond)
	}
	return time.Now().UTC().Truncate(time.Millisecond)
}

func (r *BillingRule) log() *slog.Logger {
	if r.Log != nil {
		return r.Log
	}
	return slog.Default()
}

// ---- one run's walk

// billingTask is one item of work: a removal or an inclusion.
type billingTask struct {
	seq          int64
	integration  Integration
	deps         negativationDeps
	negativation Negativation // removal
	invoice      Invoice      // inclusion
	// done, when set, is called once the item finished.
	done func()
}

// billingWalk is the work of one run: a producer per integration (a few
// integrations at a time, in list order) hands items to a pool of workers;
// the bureau calls of all of them share BureauConcurrency slots, and each
// integration's calls its rate limit.
type billingWalk struct {
	rule     *BillingRule
	cfg      BillingRuleConfig
	run      BillingRun
	log      *slog.Logger
	stopAt   time.Time
	slots    chan struct{}
	tasks    chan billingTask
	progress *billingProgress

	// params and integrations are read through the run's short-lived
	// cache: every inclusion would read them again.
	params       ParametersStore
	integrations IntegrationStore

	mu        sync.Mutex
	aborted   map[string]bool // integrations whose work stopped early
	disabled  bool            // the master switch went off
	deadlined bool
	failure   error // what stopped the walk: the table unreachable, the context done
}

func (r *BillingRule) newWalk(ctx context.Context, run BillingRun, deadline time.Time, log *slog.Logger) *billingWalk {
	cfg := r.Config.withDefaults()
	w := &billingWalk{
		rule: r, cfg: cfg, run: run, log: log,
		slots:    make(chan struct{}, cfg.BureauConcurrency),
		tasks:    make(chan billingTask),
		progress: newBillingProgress(run),
		aborted:  map[string]bool{},
		params:   &runParameters{ParametersStore: r.Negativations.Parameters, now: r.now},
		integrations: &runIntegrations{IntegrationStore: r.Negativations.Integrations, now: r.now,
			byID: map[string]runCached[Integration]{}, byBranch: map[string]runCached[Integration]{}},
	}
	if !deadline.IsZero() {
		margin := min(cfg.SafetyMargin, deadline.Sub(r.now())/4)
		w.stopAt = deadline.Add(-margin)
	}
	return w
}

// walk works everything through and says how the run ends.
func (w *billingWalk) walk(ctx context.Context) (BillingRunStatus, error) {
	checkpoints := make(chan struct{}, 1)
	checkpointed := make(chan struct{})
	go func() {
		defer close(checkpointed)
		for range checkpoints {
			w.checkpoint(ctx)
		}
	}()

	var workers sync.WaitGroup
	for range w.cfg.Workers {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for t := range w.tasks {
				if w.finish(t, w.perform(ctx, t))%w.cfg.CheckpointEvery == 0 {
					select {
					case checkpoints <- struct{}{}:
					default:
					}
				}
			}
		}()
	}
	err := w.produce(ctx)
	close(w.tasks)
	workers.Wait()
	close(checkpoints)
	<-checkpointed

	switch {
	case err != nil:
		return BillingRunFailed, err
	case w.deadlined:
		return BillingRunStoppedAtDeadline, nil
	}
	return BillingRunFinished, nil
}

// checkpoint records the progress so far, and renews the lease of a run
// without a deadline.
func (w *billingWalk) checkpoint(ctx context.Context) {
	counts, errs, pos := w.progress.snapshot()
	_, err := w.rule.Store.UpdateBillingRun(ctx, w.run.ID, func(cur *BillingRun) error {
		if cur.Status != BillingRunRunning {
			return ErrNoChange
		}
		cur.Counts, cur.Errors, cur.Position = counts, errs, pos
		if w.stopAt.IsZero() {
			cur.LeaseUntil = leaseFor(time.Time{}, w.rule.now())
		}
		return nil
	})
	if err != nil {
		w.log.Warn("billing run progress not recorded", slog.String("error", err.Error()))
	}
}

// stopped reports whether the walk must take no more work: the deadline is
// near, the master switch went off, or the walk failed.
func (w *billingWalk) stopped() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.stopAt.IsZero() && !w.rule.now().Before(w.stopAt) {
		w.deadlined = true
	}
	return w.deadlined || w.disabled || w.failure != nil
}

// fail stops the walk on its first failure.
func (w *billingWalk) fail(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.failure == nil {
		w.failure = err
	}
}

func (w *billingWalk) failed() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.failure
}

func (w *billingWalk) integrationAborted(id string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.aborted[id]
}

// errStop ends the producer when the walk is stopped.
var errStop = errors.New("billing walk stopped")

// produce hands out the work of every integration with automation, a few
// at a time in list order, from the run's starting position; it returns
// the failure that stopped it, if any.
func (w *billingWalk) produce(ctx context.Context) error {
	start := w.run.Position
	lanes := make(chan struct{}, w.cfg.IntegrationsAtOnce)
	var producers sync.WaitGroup
	cursor := ""
walk:
	for {
		page, next, err := w.rule.Negativations.Integrations.ListIntegrations(ctx, Page{Limit: MaxPageLimit, Cursor: cursor})
		if err != nil {
			w.fail(err)
			break
		}
		for _, i := range page {
			if !i.Automation.Enabled || slices.Contains(start.Done, i.ID) {
				continue
			}
			lanes <- struct{}{}
			if w.stopped() {
				<-lanes
				break walk
			}
			after, _ := start.after(i.ID)
			producers.Add(1)
			go func() {
				defer func() { <-lanes; producers.Done() }()
				switch err := w.integration(ctx, i, after); {
				case err == nil:
					w.progress.mark(i.ID, billingMark{done: true})
				case !errors.Is(err, errStop):
					w.fail(err)
				}
			}()
		}
		if next == "" {
			break
		}
		cursor = next
	}
	producers.Wait()
	return w.failed()
}

// integration hands out one integration's work: its removals and its sync,
// unless the run resumes after one of its invoices, then its inclusions.
func (w *billingWalk) integration(ctx context.Context, i Integration, after *InvoiceKey) error {
	d := w.depsFor(i)
	if after == nil {
		if err := w.removals(ctx, i, d); err != nil {
			return err
		}
		if w.stopped() {
			return errStop
		}
		if !w.integrationAborted(i.ID) {
			w.sync(ctx, i, d)
		}
	}
	return w.inclusions(ctx, i, d, after)
}

// removals hands out the removals, most overdue first, and waits for them:
// the sync that follows then never asks about a record on its way out.
func (w *billingWalk) removals(ctx context.Context, i Integration, d negativationDeps) error {
	pending, err := w.rule.Negativations.PendingRemovals(ctx, i.ID)
	if err != nil {
		return err
	}
	var removing sync.WaitGroup
	defer removing.Wait()
	for _, pr := range pending {
		if w.stopped() {
			return errStop
		}
		removing.Add(1)
		if err := w.dispatch(ctx, billingTask{integration: i, deps: d, negativation: pr.Negativation, done: removing.Done},
			billingMark{}); err != nil {
			return err
		}
	}
	return nil
}

func (w *billingWalk) sync(ctx context.Context, i Integration, d negativationDeps) {
	res, err := w.rule.Negativations.sync(ctx, d, SyncRequest{IntegrationID: i.ID, RunID: w.run.ID})
	w.progress.synced(res.Examined)
	if err != nil {
		w.log.Warn("billing run sync failed", slog.String("integrationId", i.ID), slog.String("code", ErrorCode(err)), slog.String("error", err.Error()))
		w.progress.addError(BillingRunError{At: w.rule.now(), IntegrationID: i.ID, Code: ErrorCode(err), Message: ErrorMessage(err)})
		w.react(i.ID, err)
	}
}

func (w *billingWalk) inclusions(ctx context.Context, i Integration, d negativationDeps, after *InvoiceKey) error {
	q := OpenInvoiceQuery{
		BranchID: i.BranchID, After: after, Limit: w.cfg.PageSize,
		From: w.run.Day.AddYears(-MaxDebtAgeYears), To: w.run.Day.AddDays(-i.Automation.DaysAfterDue),
	}
	for {
		if w.stopped() {
			return errStop
		}
		invoices, done, err := w.rule.Store.OpenInvoicesDue(ctx, q)
		if err != nil {
			return err
		}
		ids := make([]string, 0, len(invoices))
		for _, inv := range invoices {
			if !slices.Contains(ids, inv.CustomerID) {
				ids = append(ids, inv.CustomerID)
			}
		}
		customers, err := w.rule.Store.GetCustomers(ctx, ids)
		if err != nil {
			return err
		}
		for _, inv := range invoices {
			if w.stopped() {
				return errStop
			}
			key := KeyOf(inv)
			q.After = &key
			mark := billingMark{after: &key}
			c, found := customers[inv.CustomerID]
			var reason string
			switch {
			case w.integrationAborted(i.ID):
				reason = SkipIntegrationAborted
			case !found:
				reason = SkipCustomerNotFound
			case c.AutoNegativation == AutoNegativationNo:
				reason = SkipCustomerOptedOut
			default:
				if fields, _ := c.MissingForNegativation(); len(fields) > 0 {
					reason = CodeMissingCustomerFields
					w.log.Debug("billing run skips a customer missing fields", slog.String("customerId", c.ID), slog.Any("fields", fields))
				}
			}
			if reason != "" {
				w.progress.skipNow(i.ID, mark, reason)
				continue
			}
			if err := w.dispatch(ctx, billingTask{integration: i, deps: d, invoice: inv}, mark); err != nil {
				return err
			}
		}
		if done || len(invoices) == 0 {
			return nil
		}
	}
}

func (w *billingWalk) dispatch(ctx context.Context, t billingTask, m billingMark) error {
	t.seq = w.progress.issue(t.integration.ID, m)
	select {
	case w.tasks <- t:
		return nil
	case <-ctx.Done():
		w.finish(t, billingOutcome{})
		return ctx.Err()
	}
}

// finish records an item's outcome; it returns how many items finished so
// far.
func (w *billingWalk) finish(t billingTask, o billingOutcome) int {
	n := w.progress.complete(t.integration.ID, t.seq, o)
	if t.done != nil {
		t.done()
	}
	return n
}

// billingOutcome is what one item came to.
type billingOutcome struct {
	included, removed bool
	skipped           string
	failure           *BillingRunError
}

// perform works one item through the negativation service.
func (w *billingWalk) perform(ctx context.Context, t billingTask) billingOutcome {
	if w.integrationAborted(t.integration.ID) {
		return billingOutcome{skipped: SkipIntegrationAborted}
	}
	var err error
	failure := BillingRunError{IntegrationID: t.integration.ID}
	if t.invoice.ID != "" {
		failure.CustomerID, failure.InvoiceID = t.invoice.CustomerID, t.invoice.ID
		var n Negativation
		n, err = w.rule.Negativations.include(ctx, t.deps, IncludeRequest{CustomerID: t.invoice.CustomerID, InvoiceID: t.invoice.ID, Origin: OriginAutomatic, RunID: w.run.ID})
		if err == nil && n.Status == NegativationRejected {
			err = BureauRejected(n.BureauMessage)
		}
		failure.NegativationID = n.ID
		if err == nil {
			return billingOutcome{included: true}
		}
	} else {
		failure.CustomerID, failure.InvoiceID, failure.NegativationID = t.negativation.CustomerID, t.negativation.InvoiceID, t.negativation.ID
		_, err = w.rule.Negativations.remove(ctx, t.deps, t.negativation.ID, RemoveRequest{Origin: OriginAutomatic, RunID: w.run.ID})
		if err == nil {
			return billingOutcome{removed: true}
		}
	}
	if reason, ok := skipReason(err); ok {
		return billingOutcome{skipped: reason}
	}
	if e, ok := AsError(err); ok && failure.NegativationID == "" {
		if id, _ := e.Details["negativationId"].(string); id != "" {
			failure.NegativationID = id
		}
	}
	failure.At, failure.Code, failure.Message = w.rule.now(), ErrorCode(err), ErrorMessage(err)
	w.log.Warn("billing run item failed", slog.String("integrationId", failure.IntegrationID), slog.String("customerId", failure.CustomerID),
		slog.String("invoiceId", failure.InvoiceID), slog.String("negativationId", failure.NegativationID),
		slog.String("code", failure.Code), slog.String("error", err.Error()))
	w.react(t.integration.ID, err)
	return billingOutcome{failure: &failure}
}

// react stops what an error says cannot go on: an integration whose
// credentials the bureau refuses, or the whole run when the master switch
// went off.
func (w *billingWalk) react(integrationID string, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch ErrorCode(err) {
	case CodeBureauBadCredentials:
		w.aborted[integrationID] = true
	case CodeCreditAnalysisDisabled:
		w.disabled = true
	}
}

// skipReason tells a refusal by the rules (counted as a skip under its
// code) from a failure.
func skipReason(err error) (string, bool) {
	switch code := ErrorCode(err); code {
	case CodeAlreadyNegativated, CodeMissingCustomerFields, CodeInvoiceNotOpen, CodeInvoiceWithoutAmount,
		CodeInvoiceNotOverdue, CodeDebtTooOld, CodeDebtorUnderage, CodeNegativationDataRejected,
		CodeAutomationDisabled, CodeBranchWithoutIntegration, CodeInvalidStatus, CodeInvoiceNotSettled, CodeNotFound:
		return code, true
	}
	return "", false
}

// depsFor is what the run's items of one integration read and call
// through: the negativation service's access to the bureau behind the
// run's slots and the integration's rate limit, the parameters and
// integrations through the run's cache, log lines naming the run and the
// integration.
func (w *billingWalk) depsFor(i Integration) negativationDeps {
	var limiter Limiter
	if w.rule.NewLimiter != nil {
		limiter = w.rule.NewLimiter(i.ID)
	} else {
		limiter = rate.NewLimiter(rate.Limit(w.cfg.RatePerIntegration), w.cfg.Burst)
	}
	return negativationDeps{
		params:       w.params,
		integrations: w.integrations,
		bureau:       throttledAccess{RegistryAccess: w.rule.Negativations.Bureau, slots: w.slots, limiter: limiter},
		log:          w.log.With(slog.String("integrationId", i.ID)),
	}
}

// throttledAccess holds one of the run's slots and a token of the
// integration's rate limit for each registry call.
type throttledAccess struct {
	RegistryAccess
	slots   chan struct{}
	limiter Limiter
}

func (b throttledAccess) acquire(ctx context.Context) (func(), error) {
	if err := b.limiter.Wait(ctx); err != nil {
		return nil, BureauUnavailable(err)
	}
	select {
	case b.slots <- struct{}{}:
		return func() { <-b.slots }, nil
	case <-ctx.Done():
		return nil, BureauUnavailable(ctx.Err())
	}
}

func (b throttledAccess) Include(ctx context.Context, i Integration, r NegativationRequest) (BureauRecord, error) {
	release, err := b.acquire(ctx)
	if err != nil {
		return BureauRecord{}, err
	}
	defer release()
	return b.RegistryAccess.Include(ctx, i, r)
}

func (b throttledAccess) Remove(ctx context.Context, i Integration, r RemovalRequest) error {
	release, err := b.acquire(ctx)
	if err != nil {
		return err
	}
	defer release()
	return b.RegistryAccess.Remove(ctx, i, r)
}

func (b throttledAccess) Status(ctx context.Context, i Integration, refs []string) ([]BureauRecord, error) {
	release, err := b.acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	return b.RegistryAccess.Status(ctx, i, refs)
}

// ---- the run's reads

// billingReadTTL is how long a run trusts the parameters and an
// integration it read: the master switch turned off, or an integration's
// automation changed, reaches a run within it. The writes stay guarded by
// the store (a negativation is never created for a deleted integration).
const billingReadTTL = 30 * time.Second

// runCached is a value read at a time.
type runCached[T any] struct {
	value T
	at    time.Time
}

func (c runCached[T]) fresh(now time.Time) bool {
	return !c.at.IsZero() && now.Sub(c.at) < billingReadTTL
}

// runParameters is the parameters store as a run reads it.
type runParameters struct {
	ParametersStore
	now func() time.Time
	mu  sync.Mutex
	p   runCached[Parameters]
}

func (c *runParameters) GetParameters(ctx context.Context) (Parameters, error) {
	c.mu.Lock()
	cached := c.p
	c.mu.Unlock()
	if cached.fresh(c.now()) {
		return cached.value, nil
	}
	p, err := c.ParametersStore.GetParameters(ctx)
	if err != nil {
		return Parameters{}, err
	}
	c.mu.Lock()
	c.p = runCached[Parameters]{value: p, at: c.now()}
	c.mu.Unlock()
	return p, nil
}

// runIntegrations is the integration store as a run reads it: the
// integrations found, by id and by branch.
type runIntegrations struct {
	IntegrationStore
	now      func() time.Time
	mu       sync.Mutex
	byID     map[string]runCached[Integration]
	byBranch map[string]runCached[Integration]
}

func (c *runIntegrations) GetIntegration(ctx context.Context, id string) (Integration, error) {
	return c.read(ctx, c.byID, id, c.IntegrationStore.GetIntegration)
}

func (c *runIntegrations) GetIntegrationByBranch(ctx context.Context, branchID string) (Integration, error) {
	return c.read(ctx, c.byBranch, branchID, c.IntegrationStore.GetIntegrationByBranch)
}

func (c *runIntegrations) read(ctx context.Context, m map[string]runCached[Integration], key string,
	get func(context.Context, string) (Integration, error)) (Integration, error) {
	c.mu.Lock()
	cached := m[key]
	c.mu.Unlock()
	if cached.fresh(c.now()) {
		return cached.value, nil
	}
	i, err := get(ctx, key)
	if err != nil {
		return Integration{}, err
	}
	c.mu.Lock()
	m[key] = runCached[Integration]{value: i, at: c.now()}
	c.mu.Unlock()
	return i, nil
}

// ---- progress

// billingMark is where an item sits in its integration's walk: a removal
// (after nil), an open invoice after, or the end of the integration.
type billingMark struct {
	after *InvoiceKey
	done  bool
}

// billingProgress counts what the workers did and keeps, for each
// integration in progress, the position up to which everything handed out
// is finished: items finish out of order, a position only moves over a
// finished prefix, so that a run resuming from it never skips an item in
// flight when this one was cut short. It starts from what the run had
// recorded (a run taken over keeps its counts).
type billingProgress struct {
	mu        sync.Mutex
	counts    BillingCounts
	errors    []BillingRunError
	done      []string
	lanes     map[string]*billingLane
	order     []string // the integrations in progress, in the order they started
	completed int
	moved     bool
}

// billingLane is one integration's sequence of items.
type billingLane struct {
	after    *InvoiceKey
	marks    map[int64]billingMark
	finished map[int64]bool
	issued   int64
	next     int64
}

func newBillingProgress(run BillingRun) *billingProgress {
	pos := run.Position.clone()
	p := &billingProgress{counts: run.Counts.clone(), errors: slices.Clone(run.Errors), done: pos.Done,
		lanes: map[string]*billingLane{}}
	if p.counts.Skipped == nil {
		p.counts.Skipped = map[string]int{}
	}
	for _, ip := range pos.Partial {
		p.lane(ip.IntegrationID).after = ip.After
	}
	return p
}

func (p *billingProgress) lane(id string) *billingLane {
	l, ok := p.lanes[id]
	if !ok {
		l = &billingLane{marks: map[int64]billingMark{}, finished: map[int64]bool{}}
		p.lanes[id] = l
		p.order = append(p.order, id)
	}
	return l
}

// issue registers an item of integration id handed out at m.
func (p *billingProgress) issue(id string, m billingMark) int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	l := p.lane(id)
	seq := l.issued
	l.issued++
	l.marks[seq] = m
	return seq
}

// mark registers a place the walk passed without an item (the end of an
// integration).
func (p *billingProgress) mark(id string, m billingMark) {
	p.complete(id, p.issue(id, m), billingOutcome{})
}

// skipNow registers an item the producer settled itself.
func (p *billingProgress) skipNow(id string, m billingMark, reason string) {
	p.complete(id, p.issue(id, m), billingOutcome{skipped: reason})
}

// complete records an item's outcome and moves its integration's position
// over the finished prefix; it returns how many items finished so far.
func (p *billingProgress) complete(id string, seq int64, o billingOutcome) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	l := p.lane(id)
	if !l.marks[seq].done {
		p.counts.Examined++
	}
	switch {
	case o.included:
		p.counts.Included++
	case o.removed:
		p.counts.Removed++
	case o.skipped != "":
		p.counts.skip(o.skipped)
	case o.failure != nil:
		p.counts.Failed++
		p.addErrorLocked(*o.failure)
	}
	l.finished[seq] = true
	for l.finished[l.next] {
		m := l.marks[l.next]
		delete(l.finished, l.next)
		delete(l.marks, l.next)
		l.next++
		p.moved = true
		if m.done {
			p.done = append(p.done, id)
			delete(p.lanes, id)
			p.order = slices.DeleteFunc(p.order, func(o string) bool { return o == id })
			break
		}
		l.after = m.after
	}
	p.completed++
	return p.completed
}

func (p *billingProgress) synced(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.counts.Synced += n
}

// addError records an error that is not one item's (a sync).
func (p *billingProgress) addError(e BillingRunError) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.addErrorLocked(e)
}

func (p *billingProgress) addErrorLocked(e BillingRunError) {
	if len(p.errors) < MaxBillingRunErrors {
		p.errors = append(p.errors, e)
	}
}

// snapshot copies the counts, the first errors and the position.
func (p *billingProgress) snapshot() (BillingCounts, []BillingRunError, BillingPosition) {
	p.mu.Lock()
	defer p.mu.Unlock()
	pos := BillingPosition{Done: slices.Clone(p.done)}
	for _, id := range p.order {
		pos.Partial = append(pos.Partial, IntegrationPosition{IntegrationID: id, After: p.lanes[id].after})
	}
	return p.counts.clone(), slices.Clone(p.errors), pos.clone()
}

// advanced reports whether the position moved since the start.
func (p *billingProgress) advanced() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.moved
}
