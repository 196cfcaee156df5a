package memory

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strings"
	"sync"

	"creditanalysis/shared/credit"
)

var _ credit.BillingStore = (*Billing)(nil)

// Billing is the billing rule's store in memory: its runs, and the open
// invoices and customers read from the Store it wraps.
type Billing struct {
	*Store
	mu   sync.Mutex
	runs map[string]credit.BillingRun
}

// NewBilling keeps runs next to s's parties and invoices.
func NewBilling(s *Store) *Billing {
	return &Billing{Store: s, runs: map[string]credit.BillingRun{}}
}

func cloneRun(r credit.BillingRun) credit.BillingRun {
	r.Errors = slices.Clone(r.Errors)
	if r.Counts.Skipped != nil {
		m := make(map[string]int, len(r.Counts.Skipped))
		for k, v := range r.Counts.Skipped {
			m[k] = v
		}
		r.Counts.Skipped = m
	}
	r.Position.Done = slices.Clone(r.Position.Done)
	r.Position.Partial = slices.Clone(r.Position.Partial)
	for k, ip := range r.Position.Partial {
		if ip.After != nil {
			a := *ip.After
			r.Position.Partial[k].After = &a
		}
	}
	return r
}

func (b *Billing) CreateBillingRun(ctx context.Context, r credit.BillingRun) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, exists := b.runs[r.ID]; exists {
		return credit.Internal(errors.New("duplicate id"), "memory: billing run %s already exists", r.ID)
	}
	b.runs[r.ID] = cloneRun(r)
	return nil
}

func (b *Billing) GetBillingRun(ctx context.Context, id string) (credit.BillingRun, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	r, ok := b.runs[id]
	if !ok {
		return credit.BillingRun{}, credit.NotFound("Execução da régua")
	}
	return cloneRun(r), nil
}

// UpdateBillingRun runs fn under the lock, so no write comes between its
// read and its write.
func (b *Billing) UpdateBillingRun(ctx context.Context, id string, fn func(*credit.BillingRun) error) (credit.BillingRun, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	cur, ok := b.runs[id]
	if !ok {
		return credit.BillingRun{}, credit.NotFound("Execução da régua")
	}
	next := cloneRun(cur)
	if err := fn(&next); errors.Is(err, credit.ErrNoChange) {
		return cloneRun(cur), nil
	} else if err != nil {
		return credit.BillingRun{}, err
	}
	next.ID, next.Version = cur.ID, cur.Version+1
	b.runs[id] = cloneRun(next)
	return next, nil
}

func (b *Billing) ListBillingRuns(ctx context.Context, p credit.Page) ([]credit.BillingRun, string, error) {
	b.mu.Lock()
	all := make([]credit.BillingRun, 0, len(b.runs))
	for _, r := range b.runs {
		all = append(all, cloneRun(r))
	}
	b.mu.Unlock()
	slices.SortFunc(all, func(x, y credit.BillingRun) int {
		return cmp.Or(y.StartedAt.Compare(x.StartedAt), strings.Compare(y.ID, x.ID))
	})
	return paginate(all, p)
}

func compareKeys(a, b credit.InvoiceKey) int {
	return cmp.Or(a.DueDate.Compare(b.DueDate), strings.Compare(a.CustomerID, b.CustomerID), strings.Compare(a.InvoiceID, b.InvoiceID))
}

func (b *Billing) OpenInvoicesDue(ctx context.Context, q credit.OpenInvoiceQuery) ([]credit.Invoice, bool, error) {
	b.Store.mu.Lock()
	var all []credit.Invoice
	for _, invs := range b.Store.invoices {
		for _, inv := range invs {
			if inv.Status != credit.InvoiceOpen || inv.BranchID != q.BranchID ||
				inv.DueDate.Before(q.From) || inv.DueDate.After(q.To) ||
				(q.After != nil && compareKeys(credit.KeyOf(inv), *q.After) <= 0) {
				continue
			}
			all = append(all, inv)
		}
	}
	b.Store.mu.Unlock()
	slices.SortFunc(all, func(x, y credit.Invoice) int { return compareKeys(credit.KeyOf(x), credit.KeyOf(y)) })
	limit := q.Limit
	if limit <= 0 {
		limit = credit.DefaultPageLimit
	}
	if len(all) <= limit {
		return all, true, nil
	}
	return all[:limit], false, nil
}

func (b *Billing) GetCustomers(ctx context.Context, ids []string) (map[string]credit.Party, error) {
	b.Store.mu.Lock()
	defer b.Store.mu.Unlock()
	out := make(map[string]credit.Party, len(ids))
	for _, id := range ids {
		if p, ok := b.Store.parties[partyKey(credit.PartyCustomer, id)]; ok {
			out[id] = p
		}
	}
	return out, nil
}
