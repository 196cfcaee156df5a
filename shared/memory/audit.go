package memory

import (
	"context"
	"slices"
	"sort"
	"sync"
	"time"

	"creditanalysis/shared/credit"
)

// Audit is an in-memory audit trail.
type Audit struct {
	mu     sync.Mutex
	events []credit.AuditEvent
}

func NewAudit() *Audit { return &Audit{} }

var _ credit.AuditLog = (*Audit)(nil)

func (a *Audit) AppendAudit(ctx context.Context, e credit.AuditEvent) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.events = append(a.events, e)
	return nil
}

func (a *Audit) ListAudit(ctx context.Context, f credit.AuditFilter, p credit.Page) ([]credit.AuditEvent, string, error) {
	a.mu.Lock()
	var out []credit.AuditEvent
	to := f.To
	if to.IsZero() {
		to = time.Now().Add(time.Millisecond)
	}
	from := f.From
	if from.IsZero() {
		from = to.Add(-30 * 24 * time.Hour)
	}
	for _, e := range a.events {
		if e.At.Before(from) || !e.At.Before(to) {
			continue
		}
		if (f.Actor != "" && e.Actor.Subject != f.Actor) || (f.Action != "" && e.Action != f.Action) ||
			(f.TargetID != "" && !slices.Contains(e.TargetIDs(), f.TargetID)) {
			continue
		}
		out = append(out, e)
	}
	a.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if !out[i].At.Equal(out[j].At) {
			return out[i].At.After(out[j].At)
		}
		return out[i].ID > out[j].ID
	})
	return paginate(out, p)
}
