package memory

import (
	"context"
	"sort"
	"strconv"

	"creditanalysis/shared/credit"
)

var _ credit.PartyStore = (*Store)(nil)

func partyKey(kind credit.PartyKind, id string) string { return string(kind) + "#" + id }

func (s *Store) PutParty(ctx context.Context, p credit.Party) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, existed := s.parties[partyKey(p.Kind, p.ID)]
	s.parties[partyKey(p.Kind, p.ID)] = p
	return !existed, nil
}

func (s *Store) GetParty(ctx context.Context, kind credit.PartyKind, id string) (credit.Party, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.parties[partyKey(kind, id)]
	if !ok {
		return credit.Party{}, credit.NotFound("Cadastro")
	}
	return p, nil
}

func (s *Store) PutInvoice(ctx context.Context, inv credit.Invoice) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.parties[partyKey(credit.PartyCustomer, inv.CustomerID)]; !ok {
		return credit.NotFound("Cliente")
	}
	if s.invoices[inv.CustomerID] == nil {
		s.invoices[inv.CustomerID] = map[string]credit.Invoice{}
	}
	s.invoices[inv.CustomerID][inv.ID] = inv
	return nil
}

func (s *Store) GetInvoice(ctx context.Context, customerID, invoiceID string) (credit.Invoice, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	inv, ok := s.invoices[customerID][invoiceID]
	if !ok {
		return credit.Invoice{}, credit.NotFound("Fatura")
	}
	return inv, nil
}

func (s *Store) ListInvoices(ctx context.Context, customerID string, p credit.Page) ([]credit.Invoice, string, error) {
	s.mu.Lock()
	all := make([]credit.Invoice, 0, len(s.invoices[customerID]))
	for _, inv := range s.invoices[customerID] {
		all = append(all, inv)
	}
	s.mu.Unlock()
	sort.Slice(all, func(a, b int) bool { return all[a].ID < all[b].ID })
	return paginate(all, p)
}

// paginate cuts one page out of items with an offset cursor.
func paginate[T any](items []T, p credit.Page) ([]T, string, error) {
	p = p.Normalized()
	start := 0
	if p.Cursor != "" {
		n, err := strconv.Atoi(p.Cursor)
		if err != nil || n < 0 || n > len(items) {
			return nil, "", credit.ErrInvalidCursor
		}
		start = n
	}
	end := min(start+p.Limit, len(items))
	next := ""
	if end < len(items) {
		next = strconv.Itoa(end)
	}
	return items[start:end], next, nil
}

func (s *Store) ErasePartyData(ctx context.Context, e credit.PartyErasure) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.parties, partyKey(e.Kind, e.ID))
	if e.Kind == credit.PartyCustomer {
		delete(s.invoices, e.ID)
	}
	if s.erasures == nil {
		s.erasures = map[string]credit.PartyErasure{}
	}
	s.erasures[partyKey(e.Kind, e.ID)] = e
	return nil
}

func (s *Store) GetPartyErasure(ctx context.Context, kind credit.PartyKind, id string) (credit.PartyErasure, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.erasures[partyKey(kind, id)]
	if !ok {
		return credit.PartyErasure{}, credit.NotFound("Exclusão de dados")
	}
	return e, nil
}
