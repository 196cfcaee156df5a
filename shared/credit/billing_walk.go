package credit

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// This file is one run's walk: the producers that hand out each
// integration's work and the workers that do it.

// billingTask is one item of work: a removal or an inclusion.
type billingTask struct {
	seq          int64
	integration  Integration
	deps         negativationDeps
	negativation Negativation // removal
	invoice      Invoice      // inclusion
	debtor       Party        // inclusion: the invoice's customer as the walk read it
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
	disabled  bool            // the master switch is off: no inclusions
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
		params:   &runParameters{ParametersStore: r.Negativations.Parameters, now: r.Now.Now},
		integrations: &runIntegrations{IntegrationStore: r.Negativations.Integrations, now: r.Now.Now,
			byID: map[string]runCached[Integration]{}, byBranch: map[string]runCached[Integration]{}},
	}
	if !deadline.IsZero() {
		margin := min(cfg.SafetyMargin, deadline.Sub(r.Now.Now())/4)
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
		if cur.DryRun {
			cur.Preview = w.progress.previewSnapshot()
		}
		if w.stopAt.IsZero() {
			cur.LeaseUntil = leaseFor(time.Time{}, w.rule.Now.Now())
		}
		return nil
	})
	if err != nil {
		w.log.WarnContext(ctx, "billing run progress not recorded", slog.String("error", err.Error()))
	}
}

// stopped reports whether the walk must take no more work: the deadline is
// near, or the walk failed.
func (w *billingWalk) stopped() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.stopAt.IsZero() && !w.rule.Now.Now().Before(w.stopAt) {
		w.deadlined = true
	}
	return w.deadlined || w.failure != nil
}

// stopInclusions ends the inclusions of the walk, once, and records why on
// the run: the master switch is off. Removals and the sync go on.
func (w *billingWalk) stopInclusions() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stopInclusionsLocked()
}

func (w *billingWalk) stopInclusionsLocked() {
	if w.disabled {
		return
	}
	w.disabled = true
	w.progress.addError(BillingRunError{At: w.rule.Now.Now(), Code: CodeCreditAnalysisDisabled,
		Message: "A integração de análise de crédito está desabilitada nos parâmetros gerais: nenhuma inclusão foi feita; as baixas e a sincronização seguiram."})
}

func (w *billingWalk) inclusionsStopped() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.disabled
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
		page, next, err := w.rule.Negativations.Integrations.ListIntegrations(ctx, nil, Page{Limit: MaxPageLimit, Cursor: cursor})
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
// unless the run resumes after one of its invoices, then its inclusions. A
// dry run does not sync: the sync is the bureau's answer.
func (w *billingWalk) integration(ctx context.Context, i Integration, after *InvoiceKey) error {
	d := w.depsFor(i)
	if after == nil {
		if err := w.removals(ctx, i, d); err != nil {
			return err
		}
		if w.stopped() {
			return errStop
		}
		if !w.integrationAborted(i.ID) && !w.run.DryRun {
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
		if w.run.DryRun {
			// Every pending removal is one the run would send.
			w.progress.settle(i.ID, billingMark{}, billingOutcome{removed: true, preview: negativationPreview(pr.Negativation)})
			continue
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
		w.log.WarnContext(ctx, "billing run sync failed", slog.String("integrationId", i.ID), slog.String("code", ErrorCode(err)), slog.String("error", err.Error()))
		w.progress.addError(BillingRunError{At: w.rule.Now.Now(), IntegrationID: i.ID, Code: ErrorCode(err), Message: ErrorMessage(err)})
		w.react(i.ID, err)
	}
}

func (w *billingWalk) inclusions(ctx context.Context, i Integration, d negativationDeps, after *InvoiceKey) error {
	q := OpenInvoiceQuery{
		BranchID: i.BranchID, After: after, Limit: w.cfg.PageSize,
		From: w.run.Day.AddYears(-MaxDebtAgeYears), To: w.run.Day.AddDays(-i.Automation.DaysAfterDue),
	}
	for {
		if w.stopped() || w.inclusionsStopped() {
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
			if w.stopped() || w.inclusionsStopped() {
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
					w.log.DebugContext(ctx, "billing run skips a customer missing fields", slog.String("customerId", c.ID), slog.Any("fields", fields))
				}
			}
			if reason != "" {
				var debtor *Party
				if found {
					debtor = &c
				}
				w.progress.settle(i.ID, mark, billingOutcome{skipped: reason, preview: w.invoicePreview(i.ID, inv, debtor)})
				continue
			}
			if err := w.dispatch(ctx, billingTask{integration: i, deps: d, invoice: inv, debtor: c}, mark); err != nil {
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

// billingOutcome is what one item came to; a dry run's items carry what
// its preview shows of them.
type billingOutcome struct {
	included, removed bool
	skipped           string
	failure           *BillingRunError
	preview           *BillingPreviewItem
}

// invoicePreview is how a dry run's preview shows an invoice; nil in a
// real run, which keeps no preview.
func (w *billingWalk) invoicePreview(integrationID string, inv Invoice, debtor *Party) *BillingPreviewItem {
	if !w.run.DryRun {
		return nil
	}
	it := &BillingPreviewItem{IntegrationID: integrationID, CustomerID: inv.CustomerID, InvoiceID: inv.ID,
		AmountCents: inv.AmountCents, DueDate: inv.DueDate}
	if debtor != nil {
		it.MaskedDocument = debtor.Document.Masked()
	}
	return it
}

func negativationPreview(n Negativation) *BillingPreviewItem {
	return &BillingPreviewItem{IntegrationID: n.IntegrationID, CustomerID: n.CustomerID, InvoiceID: n.InvoiceID,
		NegativationID: n.ID, MaskedDocument: n.Document.Masked(), AmountCents: n.AmountCents, DueDate: n.DueDate}
}

// perform works one item through the negativation service.
func (w *billingWalk) perform(ctx context.Context, t billingTask) billingOutcome {
	if w.integrationAborted(t.integration.ID) {
		return billingOutcome{skipped: SkipIntegrationAborted}
	}
	var err error
	var preview *BillingPreviewItem
	failure := BillingRunError{IntegrationID: t.integration.ID}
	if t.invoice.ID != "" {
		failure.CustomerID, failure.InvoiceID = t.invoice.CustomerID, t.invoice.ID
		preview = w.invoicePreview(t.integration.ID, t.invoice, &t.debtor)
		failure.NegativationID, err = w.include(ctx, t.deps,
			IncludeRequest{CustomerID: t.invoice.CustomerID, InvoiceID: t.invoice.ID, Origin: OriginAutomatic, RunID: w.run.ID})
		if err == nil {
			return billingOutcome{included: true, preview: preview}
		}
	} else {
		failure.CustomerID, failure.InvoiceID, failure.NegativationID = t.negativation.CustomerID, t.negativation.InvoiceID, t.negativation.ID
		_, err = w.rule.Negativations.remove(ctx, t.deps, t.negativation.ID, RemoveRequest{Origin: OriginAutomatic, RunID: w.run.ID})
		if err == nil {
			return billingOutcome{removed: true}
		}
	}
	if ErrorCode(err) == CodeCreditAnalysisDisabled {
		// The switch went off during the run: this inclusion and the
		// rest are skipped, not failed.
		w.react(t.integration.ID, err)
		return billingOutcome{skipped: CodeCreditAnalysisDisabled}
	}
	if reason, ok := skipReason(err); ok {
		return billingOutcome{skipped: reason, preview: preview}
	}
	if e, ok := AsError(err); ok && failure.NegativationID == "" {
		if id, _ := e.Details["negativationId"].(string); id != "" {
			failure.NegativationID = id
		}
	}
	failure.At, failure.Code, failure.Message = w.rule.Now.Now(), ErrorCode(err), ErrorMessage(err)
	w.log.WarnContext(ctx, "billing run item failed", slog.String("integrationId", failure.IntegrationID), slog.String("customerId", failure.CustomerID),
		slog.String("invoiceId", failure.InvoiceID), slog.String("negativationId", failure.NegativationID),
		slog.String("code", failure.Code), slog.String("error", err.Error()))
	w.react(t.integration.ID, err)
	return billingOutcome{failure: &failure}
}

// include sends an inclusion through the negativation service; a dry run
// only plans it: every rule applied, nothing written, no bureau call. A
// rejection by the bureau is an error here.
func (w *billingWalk) include(ctx context.Context, d negativationDeps, req IncludeRequest) (negativationID string, err error) {
	if w.run.DryRun {
		p, err := w.rule.Negativations.planInclusion(ctx, d, &req)
		if err == nil {
			err = p.validateRequest(w.rule.NewID())
		}
		return "", err
	}
	n, err := w.rule.Negativations.include(ctx, d, req)
	if err == nil && n.Status == NegativationRejected {
		err = BureauRejected(n.BureauMessage)
	}
	return n.ID, err
}

// react stops what an error says cannot go on: an integration whose
// credentials the bureau refuses, or every inclusion when the master switch
// went off.
func (w *billingWalk) react(integrationID string, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch ErrorCode(err) {
	case CodeBureauBadCredentials:
		w.aborted[integrationID] = true
	case CodeCreditAnalysisDisabled:
		w.stopInclusionsLocked()
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
