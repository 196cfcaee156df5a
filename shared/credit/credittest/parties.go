package credittest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"creditanalysis/shared/credit"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// NewTestCustomer returns a customer with every field a negativation needs.
func NewTestCustomer(id, branch string) credit.Party {
	now := time.Now().UTC().Truncate(time.Millisecond)
	return credit.Party{
		Kind: credit.PartyCustomer, ID: id, BranchID: branch, Document: credit.MustParseDocument("52998224725"),
		Name: "Maria da Silva", Gender: credit.GenderFemale, BirthDate: credit.NewDate(1985, time.March, 14),
		MobilePhone: "11987654321",
		Address: credit.Address{CEP: "01310100", Street: "Avenida Paulista", Number: "1000", Complement: "Apto 12",
			Neighborhood: "Bela Vista", City: "São Paulo", UF: "SP"},
		AutoNegativation: credit.AutoNegativationDefault, CreatedAt: now, UpdatedAt: now,
	}
}

// NewTestInvoice returns an open invoice of customer.
func NewTestInvoice(customer credit.Party, id string, due credit.Date, cents credit.Cents) credit.Invoice {
	return credit.Invoice{
		CustomerID: customer.ID, ID: id, BranchID: customer.BranchID, AmountCents: cents, DueDate: due,
		Status: credit.InvoiceOpen, ContractNumber: "CT-" + customer.ID, DocumentNumber: "DOC-" + id,
		UpdatedAt: time.Now().UTC().Truncate(time.Millisecond),
	}
}

// PartyStore is the contract of credit.PartyStore.
func PartyStore(t *testing.T, newStore func(t *testing.T) credit.PartyStore) {
	ctx := context.Background()

	t.Run("put creates then replaces", func(t *testing.T) {
		s := newStore(t)
		p := NewTestCustomer("c1", "b1")
		created, err := s.PutParty(ctx, p)
		require.NoError(t, err)
		assert.True(t, created)
		got, err := s.GetParty(ctx, credit.PartyCustomer, "c1")
		require.NoError(t, err)
		assert.Equal(t, p, got)

		p.Name = "Maria Souza"
		created, err = s.PutParty(ctx, p)
		require.NoError(t, err)
		assert.False(t, created)
		got, _ = s.GetParty(ctx, credit.PartyCustomer, "c1")
		assert.Equal(t, "Maria Souza", got.Name)
	})

	t.Run("kinds are separate", func(t *testing.T) {
		s := newStore(t)
		lead := NewTestCustomer("x", "b1")
		lead.Kind = credit.PartyLead
		_, err := s.PutParty(ctx, lead)
		require.NoError(t, err)
		_, err = s.GetParty(ctx, credit.PartyCustomer, "x")
		assert.Equal(t, credit.KindNotFound, credit.ErrorKind(err))
		got, err := s.GetParty(ctx, credit.PartyLead, "x")
		require.NoError(t, err)
		assert.Equal(t, credit.PartyLead, got.Kind)
	})

	t.Run("an invoice needs its customer", func(t *testing.T) {
		s := newStore(t)
		ghost := NewTestCustomer("ghost", "b1")
		err := s.PutInvoice(ctx, NewTestInvoice(ghost, "i1", credit.NewDate(2026, 1, 10), 1000))
		assert.Equal(t, credit.KindNotFound, credit.ErrorKind(err))
		_, err = s.GetInvoice(ctx, "ghost", "i1")
		assert.Equal(t, credit.KindNotFound, credit.ErrorKind(err))
	})

	t.Run("invoices round-trip and list in pages", func(t *testing.T) {
		s := newStore(t)
		c := NewTestCustomer("c2", "b1")
		_, err := s.PutParty(ctx, c)
		require.NoError(t, err)
		want := map[string]credit.Invoice{}
		for k := 0; k < 5; k++ {
			inv := NewTestInvoice(c, fmt.Sprintf("inv-%d", k), credit.NewDate(2026, 1, 10+k), credit.Cents(1000*(k+1)))
			require.NoError(t, s.PutInvoice(ctx, inv))
			want[inv.ID] = inv
		}
		paid := want["inv-0"]
		paid.Status, paid.PaidAt, paid.SettledOn = credit.InvoicePaid, credit.NewDate(2026, 2, 1), credit.NewDate(2026, 2, 1)
		require.NoError(t, s.PutInvoice(ctx, paid))
		want["inv-0"] = paid

		got, err := s.GetInvoice(ctx, "c2", "inv-0")
		require.NoError(t, err)
		assert.Equal(t, paid, got)

		seen := map[string]credit.Invoice{}
		cursor := ""
		for pages := 0; pages < 10; pages++ {
			items, next, err := s.ListInvoices(ctx, "c2", credit.Page{Limit: 2, Cursor: cursor})
			require.NoError(t, err)
			for _, inv := range items {
				seen[inv.ID] = inv
			}
			if next == "" {
				break
			}
			cursor = next
		}
		assert.Equal(t, want, seen)
		_, _, err = s.ListInvoices(ctx, "c2", credit.Page{Cursor: "%%%"})
		assert.Equal(t, credit.CodeInvalidCursor, credit.ErrorCode(err))
	})

	t.Run("erasure removes the party and its invoices, and is recorded", func(t *testing.T) {
		s := newStore(t)
		p := NewTestCustomer("c-er", "b1")
		_, err := s.PutParty(ctx, p)
		require.NoError(t, err)
		for _, id := range []string{"i1", "i2"} {
			require.NoError(t, s.PutInvoice(ctx, NewTestInvoice(p, id, credit.NewDate(2026, 1, 10), 1000)))
		}
		neighbour := NewTestCustomer("c-keep", "b1")
		_, err = s.PutParty(ctx, neighbour)
		require.NoError(t, err)
		require.NoError(t, s.PutInvoice(ctx, NewTestInvoice(neighbour, "i1", credit.NewDate(2026, 1, 10), 1000)))

		_, err = s.GetPartyErasure(ctx, credit.PartyCustomer, "c-er")
		assert.Equal(t, credit.KindNotFound, credit.ErrorKind(err), "never erased")

		e := credit.PartyErasure{Kind: credit.PartyCustomer, ID: "c-er", ErasedAt: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC),
			ErasedBy: credit.Actor{Subject: "admin-1", Name: "Admin"}, Consultations: 3}
		require.NoError(t, s.ErasePartyData(ctx, e))
		_, err = s.GetParty(ctx, credit.PartyCustomer, "c-er")
		assert.Equal(t, credit.KindNotFound, credit.ErrorKind(err))
		_, err = s.GetInvoice(ctx, "c-er", "i1")
		assert.Equal(t, credit.KindNotFound, credit.ErrorKind(err))
		invs, _, err := s.ListInvoices(ctx, "c-er", credit.Page{})
		require.NoError(t, err)
		assert.Empty(t, invs)
		got, err := s.GetPartyErasure(ctx, credit.PartyCustomer, "c-er")
		require.NoError(t, err)
		assert.Equal(t, e, got)

		_, err = s.GetParty(ctx, credit.PartyCustomer, "c-keep")
		assert.NoError(t, err, "another party is untouched")
		_, err = s.GetInvoice(ctx, "c-keep", "i1")
		assert.NoError(t, err)

		require.NoError(t, s.ErasePartyData(ctx, e), "a party already gone")
		got, err = s.GetPartyErasure(ctx, credit.PartyCustomer, "c-er")
		require.NoError(t, err)
		assert.Equal(t, e, got)
		_, err = s.GetPartyErasure(ctx, credit.PartyLead, "c-er")
		assert.Equal(t, credit.KindNotFound, credit.ErrorKind(err), "kinds are separate")
	})
}
