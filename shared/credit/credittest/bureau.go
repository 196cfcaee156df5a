package credittest

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"creditanalysis/shared/credit"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Scenario documents every credit.Bureau used in tests must honour; the
// Connect SA sandbox's README lists them with what they do.
var (
	BureauNothingRecorded   = credit.MustParseDocument("100.000.001-08")
	BureauPendencies        = credit.MustParseDocument("100.000.002-80")
	BureauProtests          = credit.MustParseDocument("100.000.003-61")
	BureauSeveralKinds      = credit.MustParseDocument("100.000.004-42")
	BureauConsultRejected   = credit.MustParseDocument("100.000.005-23")
	BureauTimeout           = credit.MustParseDocument("100.000.006-04")
	BureauServerError       = credit.MustParseDocument("100.000.007-95")
	BureauMalformed         = credit.MustParseDocument("100.000.008-76")
	BureauStatusRejected    = credit.MustParseDocument("100.000.009-57")
	BureauInclusionRefused  = credit.MustParseDocument("100.000.010-90")
	BureauOversized         = credit.MustParseDocument("100.000.011-71")
	BureauCompanyClean      = credit.MustParseDocument("10.000.001/0001-90")
	BureauCompanyTroubled   = credit.MustParseDocument("10.000.002/0001-34")
	BureauAlphanumericClean = credit.MustParseDocument("12.ABC.345/01DE-35")
)

// BureauNegativation is a valid inclusion of debtor under reference, for
// tests: a debt of R$ 149,90 due 40 days ago.
func BureauNegativation(reference string, debtor credit.Document) credit.NegativationRequest {
	return credit.NegativationRequest{
		Reference:      reference,
		SendSMS:        true,
		ResponsibleCPF: credit.MustParseDocument("529.982.247-25"),
		Debtor: credit.Debtor{
			Document: debtor, Name: "Devedor de Teste", BirthDate: time.Date(1985, 4, 12, 0, 0, 0, 0, time.UTC),
			Gender: "female", Phone: "11987654321",
			Address: credit.DebtorAddress{Street: "Rua das Flores", Number: "100", Complement: "Apto 12", Neighborhood: "Centro", City: "São Paulo", UF: "SP", CEP: "01001000"},
		},
		Debt: credit.Debt{
			RestrictionCode: "01", Contract: "CT-" + reference, DocumentNumber: "FAT-" + reference,
			DueDate: time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -40), Amount: 14990,
		},
	}
}

// requireCode asserts err is a *credit.Error with code.
func requireCode(t *testing.T, err error, code string) *credit.Error {
	t.Helper()
	require.Error(t, err)
	e, ok := credit.AsError(err)
	require.True(t, ok, "want *credit.Error, got %T: %v", err, err)
	require.Equal(t, code, e.Code, "error: %v", err)
	return e
}

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// consult buys a report of doc with the plan every account offers.
func consult(t *testing.T, b credit.ConsultationBureau, acct credit.BureauAccount, doc credit.Document) (credit.Report, error) {
	t.Helper()
	q := credit.ConsultQuery{Document: doc, Plan: credit.PlanReportScore}
	if doc.Kind() == credit.CPF {
		q.UF = "SP"
	}
	return b.Consult(context.Background(), acct, q)
}

// Bureau is the contract of credit.Bureau, every role: the contracts of
// credit.ConsultationBureau and credit.PEFINRegistry, then the account's
// administration (credit.BureauAccounts), which only the other roles' calls
// can show at work. newBureau returns a bureau and a homologation account
// it has never seen (a fresh login, enrolled by its first call, whose
// passwords follow the partner's rules); the bureau must honour the
// scenario documents above, make records active at their first status
// read, and give up on a stalled answer within a few seconds.
func Bureau(t *testing.T, newBureau func(t *testing.T) (credit.Bureau, credit.BureauAccount)) {
	ConsultationBureau(t, func(t *testing.T) (credit.ConsultationBureau, credit.BureauAccount) { return newBureau(t) })
	PEFINRegistry(t, func(t *testing.T) (credit.PEFINRegistry, credit.BureauAccount) { return newBureau(t) })
	BureauAccounts(t, newBureau)
}

// ConsultationBureau is the contract of credit.ConsultationBureau; newBureau
// as Bureau's.
func ConsultationBureau(t *testing.T, newBureau func(t *testing.T) (credit.ConsultationBureau, credit.BureauAccount)) {
	ctx := context.Background()

	t.Run("consult nada consta", func(t *testing.T) {
		t.Parallel()
		b, acct := newBureau(t)
		r, err := consult(t, b, acct, BureauNothingRecorded)
		require.NoError(t, err)
		assert.True(t, r.NothingRecorded())
		assert.NotEmpty(t, r.Protocol)
		assert.NotEmpty(t, r.Identity.Name)
		assert.False(t, r.Identity.BirthDate.IsZero())
		require.NotNil(t, r.Score)
		assert.True(t, r.Score.Value >= 0 && r.Score.Value <= credit.MaxScore)
		assert.NotEmpty(t, r.Score.Class)
		assert.True(t, r.Score.DefaultProbability >= 0 && r.Score.DefaultProbability <= 10000)
		assert.NotNil(t, r.Pendencies.Entries)
		assert.NotNil(t, r.Protests.Entries)
		assert.True(t, json.Valid(r.Raw), "raw answer kept")
		assert.NotContains(t, string(mustJSON(t, r.WithoutRaw())), BureauNothingRecorded.Number())
	})

	t.Run("consult pendencies: money and dates parsed", func(t *testing.T) {
		t.Parallel()
		b, acct := newBureau(t)
		r, err := consult(t, b, acct, BureauPendencies)
		require.NoError(t, err)
		require.Len(t, r.Pendencies.Entries, 2)
		amounts := map[credit.PendencyKind]credit.Cents{}
		for _, p := range r.Pendencies.Entries {
			amounts[p.Kind] = p.Amount
			assert.NotEmpty(t, p.Origin)
			assert.NotEmpty(t, p.Contract)
		}
		assert.Equal(t, map[credit.PendencyKind]credit.Cents{credit.PendencyPEFIN: 123456, credit.PendencyREFIN: 1500000}, amounts)
		assert.Equal(t, credit.Summary{Count: 2, Oldest: day(2023, 11, 5), Newest: day(2024, 3, 10), Total: 1623456}, r.Pendencies.Summary)
		assert.Equal(t, 2, r.Occurrences)
		assert.False(t, r.NothingRecorded())
	})

	t.Run("consult protests", func(t *testing.T) {
		t.Parallel()
		b, acct := newBureau(t)
		r, err := consult(t, b, acct, BureauProtests)
		require.NoError(t, err)
		assert.Equal(t, 2, r.Protests.Summary.Count)
		assert.Equal(t, credit.Cents(295035), r.Protests.Summary.Total)
		assert.Equal(t, 0, r.Pendencies.Summary.Count)
		for _, p := range r.Protests.Entries {
			assert.NotEmpty(t, p.Notary)
			assert.Len(t, p.UF, 2)
		}
	})

	t.Run("consult several kinds", func(t *testing.T) {
		t.Parallel()
		b, acct := newBureau(t)
		r, err := consult(t, b, acct, BureauSeveralKinds)
		require.NoError(t, err)
		assert.Equal(t, 3, r.Pendencies.Summary.Count)
		assert.Equal(t, credit.Cents(100132446), r.Pendencies.Summary.Total) // R$ 1.001.324,46
		var sum credit.Cents
		for _, p := range r.Pendencies.Entries {
			sum += p.Amount
		}
		assert.Equal(t, r.Pendencies.Summary.Total, sum)
		require.Len(t, r.Protests.Entries, 1)
		assert.Equal(t, credit.Cents(543210), r.Protests.Entries[0].Amount)
		require.Len(t, r.BadCheques.Entries, 1)
		assert.Equal(t, 2, r.BadCheques.Entries[0].Quantity)
		require.Len(t, r.Lawsuits.Entries, 1)
		assert.Equal(t, credit.Cents(4800000), r.Lawsuits.Entries[0].Amount)
		assert.Equal(t, 0, r.Bankruptcies.Summary.Count)
		assert.Equal(t, 6, r.Occurrences)
		pc := r.PreviousConsultations
		assert.Equal(t, [4]int{2, 3, 5, 8}, [4]int{pc.Last15Days, pc.Last30Days, pc.Last60Days, pc.Last90Days})
		require.NotNil(t, r.Score)
		assert.Less(t, r.Score.Value, 400)
	})

	t.Run("consult companies, alphanumeric CNPJ included", func(t *testing.T) {
		t.Parallel()
		b, acct := newBureau(t)
		r, err := consult(t, b, acct, BureauCompanyTroubled)
		require.NoError(t, err)
		assert.False(t, r.Identity.FoundationDate.IsZero())
		assert.True(t, r.Identity.BirthDate.IsZero())
		assert.Equal(t, 1, r.Bankruptcies.Summary.Count)
		assert.Equal(t, credit.Cents(750000), r.Pendencies.Summary.Total)
		for _, doc := range []credit.Document{BureauCompanyClean, BureauAlphanumericClean} {
			r, err := consult(t, b, acct, doc)
			require.NoError(t, err, doc.Masked())
			assert.True(t, r.NothingRecorded(), doc.Masked())
		}
	})

	t.Run("same document, same report", func(t *testing.T) {
		t.Parallel()
		b, acct := newBureau(t)
		for _, doc := range []string{"529.982.247-25", "11.222.333/0001-81", "390.533.447-05"} {
			d := credit.MustParseDocument(doc)
			first, err := consult(t, b, acct, d)
			require.NoError(t, err)
			second, err := consult(t, b, acct, d)
			require.NoError(t, err)
			assert.NotEqual(t, first.Protocol, second.Protocol, "each consultation has its protocol")
			first.Protocol, second.Protocol, first.Raw, second.Raw = "", "", nil, nil
			assert.Equal(t, first, second)
		}
	})

	t.Run("every listed plan can be consulted", func(t *testing.T) {
		t.Parallel()
		b, acct := newBureau(t)
		plans, err := b.Plans(ctx, acct)
		require.NoError(t, err)
		require.NotEmpty(t, plans)
		seen := map[credit.Plan]bool{}
		for _, p := range plans {
			assert.True(t, p.Plan.Consultable(), p.Plan)
			assert.NotEmpty(t, p.ProductCode)
			assert.NotEmpty(t, p.Name)
			assert.False(t, seen[p.Plan], "plan %s listed twice", p.Plan)
			seen[p.Plan] = true
			_, err := b.Consult(ctx, acct, credit.ConsultQuery{Document: BureauPendencies, Plan: p.Plan, UF: "SP"})
			assert.NoError(t, err, p.Plan)
		}
		assert.True(t, seen[credit.PlanReportScore])
	})

	t.Run("invalid queries are refused before the bureau", func(t *testing.T) {
		t.Parallel()
		b, acct := newBureau(t)
		for _, q := range []credit.ConsultQuery{
			{Document: BureauNothingRecorded, Plan: credit.PlanAll, UF: "SP"},
			{Document: BureauNothingRecorded, Plan: credit.PlanReportScore},
			{Plan: credit.PlanReportScore, UF: "SP"},
		} {
			_, err := b.Consult(ctx, acct, q)
			requireCode(t, err, credit.CodeValidation)
		}
		bad := acct
		bad.Environment = "staging"
		_, err := consult(t, b, bad, BureauNothingRecorded)
		requireCode(t, err, credit.CodeValidation)
	})

	t.Run("consultation errors", func(t *testing.T) {
		t.Parallel()
		b, acct := newBureau(t)
		_, err := consult(t, b, acct, BureauConsultRejected)
		e := requireCode(t, err, credit.CodeBureauRejected)
		assert.Equal(t, credit.KindUnprocessable, e.Kind)
		assert.NotEmpty(t, e.Details["bureauMessage"])
		assert.Contains(t, e.Message, e.Details["bureauMessage"])

		for doc, code := range map[credit.Document]string{
			BureauTimeout:     credit.CodeBureauUnavailable,
			BureauServerError: credit.CodeBureauUnavailable,
			BureauMalformed:   credit.CodeBureauMalformedAnswer,
			BureauOversized:   credit.CodeBureauMalformedAnswer,
		} {
			_, err := consult(t, b, acct, doc)
			e := requireCode(t, err, code)
			assert.Equal(t, credit.KindBadGateway, e.Kind)
		}
	})

	t.Run("bad consultation password", func(t *testing.T) {
		t.Parallel()
		b, acct := newBureau(t)
		_, err := b.Plans(ctx, acct) // enrols the account with its passwords
		require.NoError(t, err)
		wrong := acct
		wrong.Credentials.ConsultationPassword += "x"
		_, err = consult(t, b, wrong, BureauNothingRecorded)
		e := requireCode(t, err, credit.CodeBureauBadCredentials)
		assert.Equal(t, "consultation", e.Details["credential"])
		_, err = b.Plans(ctx, wrong)
		requireCode(t, err, credit.CodeBureauBadCredentials)
	})
}

// BureauAccounts is the contract of credit.BureauAccounts, on a whole
// bureau: a password's check and change show in the other roles' calls.
// newBureau as Bureau's.
func BureauAccounts(t *testing.T, newBureau func(t *testing.T) (credit.Bureau, credit.BureauAccount)) {
	ctx := context.Background()

	t.Run("bad credentials", func(t *testing.T) {
		t.Parallel()
		b, acct := newBureau(t)
		check, err := b.CheckCredentials(ctx, acct)
		require.NoError(t, err)
		assert.Equal(t, credit.CredentialCheck{Consultation: true, PEFIN: true}, check)

		wrongConsultation := acct
		wrongConsultation.Credentials.ConsultationPassword += "x"
		_, err = consult(t, b, wrongConsultation, BureauNothingRecorded)
		e := requireCode(t, err, credit.CodeBureauBadCredentials)
		assert.Equal(t, "consultation", e.Details["credential"])
		_, err = b.Plans(ctx, wrongConsultation)
		requireCode(t, err, credit.CodeBureauBadCredentials)
		check, err = b.CheckCredentials(ctx, wrongConsultation)
		require.NoError(t, err)
		assert.Equal(t, credit.CredentialCheck{Consultation: false, PEFIN: true}, check)

		wrongPEFIN := acct
		wrongPEFIN.Credentials.PEFINPassword += "9"
		_, err = b.Include(ctx, wrongPEFIN, BureauNegativation("bad-creds-1", BureauNothingRecorded))
		e = requireCode(t, err, credit.CodeBureauBadCredentials)
		assert.Equal(t, "pefin", e.Details["credential"])
		_, err = b.RestrictionCodes(ctx, wrongPEFIN)
		requireCode(t, err, credit.CodeBureauBadCredentials)
		_, err = b.Status(ctx, wrongPEFIN, []string{"bad-creds-1"})
		requireCode(t, err, credit.CodeBureauBadCredentials)
		check, err = b.CheckCredentials(ctx, wrongPEFIN)
		require.NoError(t, err)
		assert.Equal(t, credit.CredentialCheck{Consultation: true, PEFIN: false}, check)

		// Nothing was registered with the wrong password.
		recs, err := b.Status(ctx, acct, []string{"bad-creds-1"})
		require.NoError(t, err)
		assert.Empty(t, recs)
	})

	t.Run("consultation password change", func(t *testing.T) {
		t.Parallel()
		b, acct := newBureau(t)
		original := acct.Credentials.ConsultationPassword
		for _, refused := range []string{"Abc@123", "abc@1234", "ABC@1234", "Abcd@efg", "Abcd1234", "Abc$1234", "Abc@1234 ", "Ábc@1234", "Abc@12345"} {
			err := b.ChangeConsultationPassword(ctx, acct, refused)
			requireCode(t, err, credit.CodeBureauRejected)
		}
		require.NoError(t, b.ChangeConsultationPassword(ctx, acct, "Abc@1234"))
		_, err := consult(t, b, acct, BureauNothingRecorded)
		requireCode(t, err, credit.CodeBureauBadCredentials)

		changed := acct
		changed.Credentials.ConsultationPassword = "Abc@1234"
		_, err = consult(t, b, changed, BureauNothingRecorded)
		require.NoError(t, err)
		check, err := b.CheckCredentials(ctx, acct)
		require.NoError(t, err)
		assert.Equal(t, credit.CredentialCheck{Consultation: false, PEFIN: true}, check, "the old password no longer works")
		check, err = b.CheckCredentials(ctx, changed)
		require.NoError(t, err)
		assert.True(t, check.OK())

		// Neither the current nor any earlier password may come back.
		requireCode(t, b.ChangeConsultationPassword(ctx, changed, "Abc@1234"), credit.CodeBureauRejected)
		requireCode(t, b.ChangeConsultationPassword(ctx, changed, original), credit.CodeBureauRejected)
		require.NoError(t, b.ChangeConsultationPassword(ctx, changed, "Xyz#9876"))
		changed.Credentials.ConsultationPassword = "Xyz#9876"
		requireCode(t, b.ChangeConsultationPassword(ctx, changed, "Abc@1234"), credit.CodeBureauRejected)

		// The current password must be right to change it.
		requireCode(t, b.ChangeConsultationPassword(ctx, acct, "Qwe!5678"), credit.CodeBureauBadCredentials)
	})

	t.Run("PEFIN password change", func(t *testing.T) {
		t.Parallel()
		b, acct := newBureau(t)
		for _, refused := range []string{"123579", "864210", "012468", "24680", "2468024", "24a680", "２４６８０２"} {
			requireCode(t, b.ChangePEFINPassword(ctx, acct, refused), credit.CodeBureauRejected)
		}
		require.NoError(t, b.ChangePEFINPassword(ctx, acct, "890246"), "890 is not a run")
		changed := acct
		changed.Credentials.PEFINPassword = "890246"
		_, err := b.Include(ctx, acct, BureauNegativation("after-change-old", BureauNothingRecorded))
		requireCode(t, err, credit.CodeBureauBadCredentials)
		_, err = b.Include(ctx, changed, BureauNegativation("after-change-new", BureauNothingRecorded))
		require.NoError(t, err)
		requireCode(t, b.ChangePEFINPassword(ctx, changed, "890246"), credit.CodeBureauRejected)
		require.NoError(t, b.ChangePEFINPassword(ctx, changed, "135791"))
		changed.Credentials.PEFINPassword = "135791"
		requireCode(t, b.ChangePEFINPassword(ctx, changed, "890246"), credit.CodeBureauRejected)
		check, err := b.CheckCredentials(ctx, changed)
		require.NoError(t, err)
		assert.True(t, check.OK())
		// The consultation password is untouched.
		_, err = consult(t, b, acct, BureauNothingRecorded)
		require.NoError(t, err)
	})
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

// PEFINRegistry is the contract of credit.PEFINRegistry, which the fake of
// the negativation flow honours too: inclusion idempotent per reference,
// records active at their first status read, the negativation scenario
// documents (inclusion refused, 5xx, rejected after processing, answers
// lost after registering), the code lists. newBureau as Bureau's.
func PEFINRegistry(t *testing.T, newBureau func(t *testing.T) (credit.PEFINRegistry, credit.BureauAccount)) {
	ctx := context.Background()

	t.Run("code lists", func(t *testing.T) {
		t.Parallel()
		b, acct := newBureau(t)
		for name, list := range map[string]func(context.Context, credit.BureauAccount) ([]credit.BureauCode, error){
			"restriction": b.RestrictionCodes, "removal": b.RemovalCodes,
		} {
			codes, err := list(ctx, acct)
			require.NoError(t, err, name)
			require.NotEmpty(t, codes, name)
			seen := map[string]bool{}
			for _, c := range codes {
				assert.NotEmpty(t, c.Code, name)
				assert.NotEmpty(t, c.Description, name)
				assert.False(t, seen[c.Code], "%s code %s twice", name, c.Code)
				seen[c.Code] = true
			}
		}
	})

	t.Run("include, follow, remove", func(t *testing.T) {
		t.Parallel()
		b, acct := newBureau(t)
		req := BureauNegativation("neg-lifecycle", BureauPendencies)
		first, err := b.Include(ctx, acct, req)
		require.NoError(t, err)
		assert.Equal(t, req.Reference, first.Reference)
		assert.Equal(t, credit.BureauRecordPending, first.Status)
		assert.NotEmpty(t, first.Protocol)
		assert.False(t, first.UpdatedAt.IsZero())

		again, err := b.Include(ctx, acct, req)
		require.NoError(t, err)
		assert.Equal(t, first.Protocol, again.Protocol, "a repeated inclusion returns the same record")

		recs, err := b.Status(ctx, acct, []string{"never-sent", req.Reference})
		require.NoError(t, err)
		require.Len(t, recs, 1, "unknown references are left out")
		assert.Equal(t, req.Reference, recs[0].Reference)
		assert.Equal(t, first.Protocol, recs[0].Protocol)
		assert.Equal(t, credit.BureauRecordActive, recs[0].Status)

		removal := credit.RemovalRequest{Reference: req.Reference, RemovalCode: "01", Date: time.Now().UTC().Truncate(24 * time.Hour)}
		require.NoError(t, b.Remove(ctx, acct, removal))
		require.NoError(t, b.Remove(ctx, acct, removal), "removing twice is harmless")
		recs, err = b.Status(ctx, acct, []string{req.Reference})
		require.NoError(t, err)
		require.Len(t, recs, 1)
		assert.Equal(t, credit.BureauRecordRemoved, recs[0].Status)

		// The reference stays taken: including it again never registers twice.
		third, err := b.Include(ctx, acct, req)
		require.NoError(t, err)
		assert.Equal(t, first.Protocol, third.Protocol)
		assert.Equal(t, credit.BureauRecordRemoved, third.Status)
	})

	t.Run("removing a pending record", func(t *testing.T) {
		t.Parallel()
		b, acct := newBureau(t)
		req := BureauNegativation("neg-pending-removal", BureauNothingRecorded)
		_, err := b.Include(ctx, acct, req)
		require.NoError(t, err)
		require.NoError(t, b.Remove(ctx, acct, credit.RemovalRequest{Reference: req.Reference, RemovalCode: "02", Date: time.Now().UTC()}))
		recs, err := b.Status(ctx, acct, []string{req.Reference})
		require.NoError(t, err)
		require.Len(t, recs, 1)
		assert.Equal(t, credit.BureauRecordRemoved, recs[0].Status)
	})

	t.Run("concurrent inclusions of one reference register once", func(t *testing.T) {
		t.Parallel()
		b, acct := newBureau(t)
		req := BureauNegativation("neg-race", BureauNothingRecorded)
		const n = 8
		protocols := make([]string, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rec, err := b.Include(ctx, acct, req)
				protocols[i], errs[i] = rec.Protocol, err
			}()
		}
		wg.Wait()
		for i := range n {
			require.NoError(t, errs[i])
			assert.Equal(t, protocols[0], protocols[i])
		}
	})

	t.Run("negativation errors", func(t *testing.T) {
		t.Parallel()
		b, acct := newBureau(t)
		err := b.Remove(ctx, acct, credit.RemovalRequest{Reference: "never-included", RemovalCode: "01", Date: time.Now().UTC()})
		e := requireCode(t, err, credit.CodeBureauRecordNotFound)
		assert.Equal(t, credit.KindNotFound, e.Kind)

		_, err = b.Include(ctx, acct, BureauNegativation("refused-1", BureauInclusionRefused))
		requireCode(t, err, credit.CodeBureauRejected)

		unknownCode := BureauNegativation("unknown-code-1", BureauNothingRecorded)
		unknownCode.Debt.RestrictionCode = "ZZ"
		_, err = b.Include(ctx, acct, unknownCode)
		requireCode(t, err, credit.CodeBureauRejected)

		invalid := BureauNegativation("invalid-1", BureauNothingRecorded)
		invalid.Debt.Amount = 0
		_, err = b.Include(ctx, acct, invalid)
		requireCode(t, err, credit.CodeValidation)

		_, err = b.Include(ctx, acct, BureauNegativation("server-error-1", BureauServerError))
		requireCode(t, err, credit.CodeBureauUnavailable)

		recs, err := b.Status(ctx, acct, []string{"refused-1", "unknown-code-1", "invalid-1", "server-error-1"})
		require.NoError(t, err)
		assert.Empty(t, recs, "nothing refused was registered")
	})

	t.Run("rejected after processing", func(t *testing.T) {
		t.Parallel()
		b, acct := newBureau(t)
		req := BureauNegativation("neg-rejected", BureauStatusRejected)
		rec, err := b.Include(ctx, acct, req)
		require.NoError(t, err)
		assert.Equal(t, credit.BureauRecordPending, rec.Status)
		recs, err := b.Status(ctx, acct, []string{req.Reference})
		require.NoError(t, err)
		require.Len(t, recs, 1)
		assert.Equal(t, credit.BureauRecordRejected, recs[0].Status)
		assert.NotEmpty(t, recs[0].Message)
		err = b.Remove(ctx, acct, credit.RemovalRequest{Reference: req.Reference, RemovalCode: "01", Date: time.Now().UTC()})
		requireCode(t, err, credit.CodeBureauRejected)
	})

	t.Run("a lost inclusion answer is recovered by repeating it", func(t *testing.T) {
		t.Parallel()
		b, acct := newBureau(t)
		for ref, doc := range map[string]credit.Document{"neg-lost-timeout": BureauTimeout, "neg-lost-malformed": BureauMalformed} {
			req := BureauNegativation(ref, doc)
			_, err := b.Include(ctx, acct, req)
			require.Error(t, err, ref)
			recs, err := b.Status(ctx, acct, []string{ref})
			require.NoError(t, err)
			require.Len(t, recs, 1, "the bureau registered %s although the answer was lost", ref)
			rec, err := b.Include(ctx, acct, req)
			require.NoError(t, err, ref)
			assert.Equal(t, recs[0].Protocol, rec.Protocol, ref)
		}
	})

	t.Run("status of many references", func(t *testing.T) {
		t.Parallel()
		b, acct := newBureau(t)
		var refs []string
		for i := range 5 {
			ref := fmt.Sprintf("neg-many-%d", i)
			_, err := b.Include(ctx, acct, BureauNegativation(ref, BureauNothingRecorded))
			require.NoError(t, err)
			refs = append(refs, ref)
		}
		asked := []string{}
		for i := range 230 { // more than one call's worth
			asked = append(asked, fmt.Sprintf("absent-%d", i))
		}
		asked = append(asked, refs[4], refs[0])
		asked = append(asked, refs[1:4]...)
		recs, err := b.Status(ctx, acct, asked)
		require.NoError(t, err)
		var got []string
		for _, r := range recs {
			got = append(got, r.Reference)
		}
		assert.Equal(t, []string{refs[4], refs[0], refs[1], refs[2], refs[3]}, got, "in the order asked")
		empty, err := b.Status(ctx, acct, nil)
		require.NoError(t, err)
		assert.Empty(t, empty)
		_, err = b.Status(ctx, acct, []string{"bad reference"})
		requireCode(t, err, credit.CodeValidation)
	})
}
