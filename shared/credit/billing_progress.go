package credit

import (
	"slices"
	"sync"
)

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
	preview   BillingPreview
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
		lanes: map[string]*billingLane{}, preview: run.Preview.clone()}
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

// settle registers an item the producer settled itself.
func (p *billingProgress) settle(id string, m billingMark, o billingOutcome) {
	p.complete(id, p.issue(id, m), o)
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
	if it := o.preview; it != nil {
		switch {
		case o.included:
			keep(&p.preview.Include, *it)
		case o.removed:
			keep(&p.preview.Remove, *it)
		case o.skipped != "":
			it.Reason = o.skipped
			keep(&p.preview.Skip, *it)
		}
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

// previewSnapshot copies what a dry run found so far.
func (p *billingProgress) previewSnapshot() BillingPreview {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.preview.clone()
}

// advanced reports whether the position moved since the start.
func (p *billingProgress) advanced() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.moved
}
