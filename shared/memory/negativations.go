package memory

import (
	"context"
	"errors"
	"slices"
	"strings"

	"creditanalysis/shared/credit"
)

var _ credit.NegativationStore = (*Store)(nil)

func invoiceKey(customerID, invoiceID string) string { return customerID + "#" + invoiceID }

// cloneNegativation copies the record's slices and pointers, so that callers
// and update functions never share memory with what is stored.
func cloneNegativation(n credit.Negativation) credit.Negativation {
	n.History = slices.Clone(n.History)
	if n.LastError != nil {
		e := *n.LastError
		n.LastError = &e
	}
	return n
}

func liveDelta(before, after credit.Negativation) int {
	switch {
	case !before.Live() && after.Live():
		return 1
	case before.Live() && !after.Live():
		return -1
	}
	return 0
}

func (s *Store) CreateNegativation(ctx context.Context, n credit.Negativation) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.init()
	if id, taken := s.negativationOf[invoiceKey(n.CustomerID, n.InvoiceID)]; taken {
		return credit.ErrAlreadyNegativated(s.negativations[id])
	}
	if _, ok := s.integrations[n.IntegrationID]; !ok {
		return credit.NotFound("Integração")
	}
	if _, exists := s.negativations[n.ID]; exists {
		return credit.Internal(errors.New("duplicate id"), "memory: negativation %s already exists", n.ID)
	}
	s.negativations[n.ID] = cloneNegativation(n)
	s.negativationOf[invoiceKey(n.CustomerID, n.InvoiceID)] = n.ID
	if n.Live() {
		s.liveNegativations[n.IntegrationID]++
	}
	return nil
}

func (s *Store) GetNegativation(ctx context.Context, id string) (credit.Negativation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.negativations[id]
	if !ok {
		return credit.Negativation{}, credit.NotFound("Negativação")
	}
	return cloneNegativation(n), nil
}

func (s *Store) GetNegativationByInvoice(ctx context.Context, customerID, invoiceID string) (credit.Negativation, error) {
	s.mu.Lock()
	id, ok := s.negativationOf[invoiceKey(customerID, invoiceID)]
	s.mu.Unlock()
	if !ok {
		return credit.Negativation{}, credit.NotFound("Negativação")
	}
	return s.GetNegativation(ctx, id)
}

// UpdateNegativation runs fn under the store's lock, so no write can come
// between its read and its write.
func (s *Store) UpdateNegativation(ctx context.Context, id string, fn func(*credit.Negativation) error) (credit.Negativation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.negativations[id]
	if !ok {
		return credit.Negativation{}, credit.NotFound("Negativação")
	}
	next := cloneNegativation(cur)
	if err := fn(&next); errors.Is(err, credit.ErrNoChange) {
		return cloneNegativation(cur), nil
	} else if err != nil {
		return credit.Negativation{}, err
	}
	next.ID, next.CustomerID, next.InvoiceID, next.IntegrationID = cur.ID, cur.CustomerID, cur.InvoiceID, cur.IntegrationID
	next.CreatedAt, next.Version = cur.CreatedAt, cur.Version+1
	delta := liveDelta(cur, next)
	if _, ok := s.integrations[cur.IntegrationID]; delta > 0 && !ok {
		return credit.Negativation{}, credit.NotFound("Integração")
	}
	s.negativations[id] = cloneNegativation(next)
	s.liveNegativations[cur.IntegrationID] += delta
	return next, nil
}

func (s *Store) ListNegativations(ctx context.Context, f credit.NegativationFilter, p credit.Page) ([]credit.Negativation, string, error) {
	s.mu.Lock()
	var all []credit.Negativation
	for _, n := range s.negativations {
		if f.Matches(n) {
			all = append(all, cloneNegativation(n))
		}
	}
	s.mu.Unlock()
	slices.SortFunc(all, func(a, b credit.Negativation) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	return scopedPage(all, f.Branches, p)
}

// scopedPage pages items with a cursor that names the branches it was
// issued for, so it is refused for others.
func scopedPage[T any](items []T, branches credit.Branches, p credit.Page) ([]T, string, error) {
	scope := scopeKey(branches) + "|"
	if p.Cursor != "" {
		if !strings.HasPrefix(p.Cursor, scope) {
			return nil, "", credit.ErrInvalidCursor
		}
		p.Cursor = strings.TrimPrefix(p.Cursor, scope)
	}
	page, next, err := paginate(items, p)
	if next != "" {
		next = scope + next
	}
	return page, next, err
}

// scopeKey names a set of branches: "*" for every branch.
func scopeKey(b credit.Branches) string {
	if b.All() {
		return "*"
	}
	sorted := slices.Clone([]string(b))
	slices.Sort(sorted)
	return "[" + strings.Join(slices.Compact(sorted), ",") + "]"
}

func (s *Store) ListSettledNegativations(ctx context.Context, integrationID string, branches credit.Branches) ([]credit.SettledNegativation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []credit.SettledNegativation
	for _, n := range s.negativations {
		switch n.Status {
		case credit.NegativationPending, credit.NegativationActive, credit.NegativationRemoving:
		default:
			continue
		}
		if integrationID != "" && n.IntegrationID != integrationID || !branches.Allows(n.BranchID) {
			continue
		}
		inv, ok := s.invoices[n.CustomerID][n.InvoiceID]
		if !ok || inv.Status == credit.InvoiceOpen {
			continue
		}
		out = append(out, credit.SettledNegativation{Negativation: cloneNegativation(n), Invoice: inv})
	}
	return out, nil
}
