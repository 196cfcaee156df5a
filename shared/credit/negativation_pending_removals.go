package credit

import (
	"cmp"
	"context"
	"slices"
	"strings"
)

// PendingRemoval is a record still registered although its invoice is paid
// or cancelled: the collector must remove it within
// RemovalDeadlineBusinessDays business days of SettledOn (STJ Súmula 548).
type PendingRemoval struct {
	Negativation  Negativation
	InvoiceStatus InvoiceStatus
	SettledOn     Date
	// BusinessDaysElapsed counts the business days since SettledOn, today
	// included.
	BusinessDaysElapsed int
	// Deadline is the last business day of the term; Late is true past it.
	Deadline Date
	Late     bool
}

// PendingRemovals lists the live records whose invoice is paid or
// cancelled, of one integration or all, in the caller's branches, oldest
// payment first.
func (s *NegativationService) PendingRemovals(ctx context.Context, integrationID string) ([]PendingRemoval, error) {
	if integrationID != "" && !ValidID(integrationID) {
		var fe FieldErrors
		fe.Add("integrationId", "identificador inválido")
		return nil, fe.Err()
	}
	settled, err := s.Store.ListSettledNegativations(ctx, integrationID, BranchesOf(ctx))
	if err != nil {
		return nil, err
	}
	today := DateOf(s.Now.Now(), SaoPaulo())
	out := make([]PendingRemoval, 0, len(settled))
	for _, sn := range settled {
		on := sn.Invoice.SettledOn
		if on.IsZero() {
			on = DateOf(sn.Invoice.UpdatedAt, SaoPaulo())
		}
		deadline := AddBusinessDays(on, RemovalDeadlineBusinessDays)
		out = append(out, PendingRemoval{
			Negativation: sn.Negativation, InvoiceStatus: sn.Invoice.Status, SettledOn: on,
			BusinessDaysElapsed: BusinessDaysBetween(on, today), Deadline: deadline, Late: today.After(deadline),
		})
	}
	slices.SortFunc(out, func(a, b PendingRemoval) int {
		return cmp.Or(a.SettledOn.Compare(b.SettledOn), a.Negativation.CreatedAt.Compare(b.Negativation.CreatedAt),
			strings.Compare(a.Negativation.ID, b.Negativation.ID))
	})
	return out, nil
}
