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

// FullReport is a report with every section filled, as a Relatório + Score
// answer of a troubled consumer: the fixture of the store, PDF and handler
// tests.
func FullReport() credit.Report {
	d := func(y int, m time.Month, day int) time.Time { return time.Date(y, m, day, 0, 0, 0, 0, time.UTC) }
	return credit.Report{
		Protocol:    "CSA-2026-000123456",
		Identity:    credit.Identity{Name: "Maria da Conceição Araújo", BirthDate: d(1985, 3, 14), DocumentStatus: "REGULAR", MotherName: "Joana Araújo"},
		Score:       &credit.Score{Value: 412, Class: "D", DefaultProbability: 2375, Message: "Risco de inadimplência acima da média."},
		Occurrences: 7,
		Pendencies: credit.NewSection([]credit.Pendency{
			{Kind: credit.PendencyPEFIN, Date: d(2025, 2, 10), Modality: "Prestação de serviços", Amount: 8990, Contract: "CT-001", Origin: "Telecom Ficção Ltda"},
			{Kind: credit.PendencyPEFIN, Date: d(2024, 11, 5), Modality: "Crediário", Amount: 123456, Contract: "CT-002", Origin: "Loja Exemplo Ltda"},
			{Kind: credit.PendencyREFIN, Date: d(2023, 7, 21), Modality: "Financiamento", Amount: 100000000, Contract: "CT-003", Origin: "Banco Exemplo S.A."},
		}),
		Protests: credit.NewSection([]credit.Protest{
			{Date: d(2024, 8, 2), Amount: 543210, Notary: "1º Tabelião de Protesto", City: "São Paulo", UF: "SP"},
		}),
		BadCheques: credit.NewSection([]credit.BadCheque{
			{Date: d(2022, 4, 18), Bank: "001", Agency: "1234", Quantity: 2, City: "Campinas", UF: "SP"},
		}),
		Lawsuits: credit.NewSection([]credit.Lawsuit{
			{Date: d(2024, 1, 30), Nature: "Execução de título", Amount: 4800000, Court: "2ª Vara Cível", City: "Curitiba", UF: "PR"},
		}),
		Bankruptcies: credit.NewSection[credit.Bankruptcy](nil),
		PreviousConsultations: credit.PreviousConsultations{Last15Days: 2, Last30Days: 3, Last60Days: 5, Last90Days: 8,
			Entries: []credit.PreviousConsultation{{Date: d(2025, 6, 20), Company: "Financeira Modelo S.A."}, {Date: d(2025, 6, 2), Company: "Loja Exemplo Ltda"}}},
		Raw: json.RawMessage(`{"status":{"protocolo":"CSA-2026-000123456"}}`),
	}
}

// NewTestConsultation returns a succeeded consultation of doc at the given
// instant, with FullReport.
func NewTestConsultation(id string, at time.Time, doc string) credit.Consultation {
	r := FullReport()
	return credit.Consultation{
		ID: id, CreatedAt: at.UTC().Truncate(time.Millisecond), Status: credit.ConsultationSucceeded,
		Document: credit.MustParseDocument(doc), UF: "SP", Plan: credit.PlanReportScore,
		IntegrationID: "int-1", BranchID: "b1", Environment: credit.EnvironmentHomologation,
		RequestedBy: credit.Actor{Subject: "u1", Name: "Analista"}, Overview: r.Overview(), Report: &r,
		PDFKey: "reports/2026/01/" + fmt.Sprintf("%032x", len(id)) + ".pdf",
	}
}

// NewFailedConsultation returns a consultation the bureau did not answer.
func NewFailedConsultation(id string, at time.Time, doc string) credit.Consultation {
	c := NewTestConsultation(id, at, doc)
	c.Status, c.ErrorCode, c.ErrorMessage = credit.ConsultationFailed, credit.CodeBureauUnavailable, "O bureau de crédito está indisponível no momento."
	c.Report, c.Overview, c.PDFKey = nil, credit.ReportOverview{}, ""
	return c
}

// withoutReport is a record as lists return it.
func withoutReport(c credit.Consultation) credit.Consultation {
	c.Report = nil
	return c
}

func ids(cs []credit.Consultation) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}

// collect follows the cursors of a list to its end.
func collect(t *testing.T, list func(credit.Page) ([]credit.Consultation, string, error), limit int) []credit.Consultation {
	t.Helper()
	var all []credit.Consultation
	cursor := ""
	for pages := 0; ; pages++ {
		require.Less(t, pages, 100, "the cursors never end")
		items, next, err := list(credit.Page{Limit: limit, Cursor: cursor})
		require.NoError(t, err)
		require.LessOrEqual(t, len(items), limit)
		all = append(all, items...)
		if next == "" {
			return all
		}
		cursor = next
	}
}

// ConsultationBranches are the branches the suite's records are in: a
// record's branch is its integration's, so newStore's store must know them
// as integrated branches.
var ConsultationBranches = []string{"b1", "b2"}

// ConsultationStore is the contract of credit.ConsultationStore. newStore
// gets the clock the store must expire document marks by.
func ConsultationStore(t *testing.T, newStore func(t *testing.T, now func() time.Time) credit.ConsultationStore) {
	ctx := context.Background()
	realClock := func() time.Time { return time.Now() }
	sp := func(y int, m time.Month, d, h, min int) time.Time {
		return time.Date(y, m, d, h, min, 0, 0, credit.SaoPaulo())
	}
	const (
		cpfA = "52998224725"
		cpfB = "11144477735"
		cnpj = "11222333000181"
	)

	t.Run("create and get round-trip every field", func(t *testing.T) {
		s := newStore(t, realClock)
		ok := NewTestConsultation("c1", sp(2026, 1, 15, 10, 30), cpfA)
		ok.Party = &credit.PartyRef{Kind: credit.PartyLead, ID: "lead-9"}
		ok.Warnings = []credit.Warning{{Code: credit.WarningDeprecatedPlan, Message: "Plano em descontinuação."}}
		ok.Plan = credit.PlanCrednetTop
		ok.ReportExpiresAt = ok.CreatedAt.Add(90 * 24 * time.Hour)
		failed := NewFailedConsultation("c2", sp(2026, 1, 15, 11, 0), cnpj)
		failed.UF = ""
		for _, c := range []credit.Consultation{ok, failed} {
			require.NoError(t, s.CreateConsultation(ctx, c))
			got, err := s.GetConsultation(ctx, c.ID)
			require.NoError(t, err)
			assert.Equal(t, c, got)
		}
	})

	t.Run("get unknown", func(t *testing.T) {
		s := newStore(t, realClock)
		_, err := s.GetConsultation(ctx, "missing")
		assert.Equal(t, credit.KindNotFound, credit.ErrorKind(err))
	})

	// Consultations across month and year boundaries; 2026-01-31 23:30 in
	// São Paulo is already February in UTC.
	corpus := func() []credit.Consultation {
		cs := []credit.Consultation{
			NewTestConsultation("k01", sp(2025, 11, 3, 9, 0), cpfA),
			NewTestConsultation("k02", sp(2025, 12, 31, 22, 0), cpfB),
			NewFailedConsultation("k03", sp(2026, 1, 1, 0, 30), cpfA),
			NewTestConsultation("k04", sp(2026, 1, 20, 14, 0), cnpj),
			NewTestConsultation("k05", sp(2026, 1, 31, 23, 30), cpfA),
			NewTestConsultation("k06", sp(2026, 2, 1, 8, 0), cpfB),
			NewFailedConsultation("k07", sp(2026, 2, 10, 16, 45), cnpj),
			NewTestConsultation("k08", sp(2026, 3, 5, 11, 0), cpfA),
		}
		cs[3].IntegrationID, cs[6].IntegrationID, cs[7].IntegrationID = "int-2", "int-2", "int-2"
		cs[3].BranchID, cs[6].BranchID, cs[7].BranchID = "b2", "b2", "b2"
		cs[1].Plan, cs[5].Plan = credit.PlanNegativeIndicator, credit.PlanNegativeIndicator
		cs[4].Party = &credit.PartyRef{Kind: credit.PartyCustomer, ID: "cust-1"}
		cs[7].Party = &credit.PartyRef{Kind: credit.PartyCustomer, ID: "cust-1"}
		cs[2].Party = &credit.PartyRef{Kind: credit.PartyCustomer, ID: "cust-1"}
		cs[5].Party = &credit.PartyRef{Kind: credit.PartyLead, ID: "cust-1"}
		// Two at the same instant: the id breaks the tie.
		twin := NewTestConsultation("k09", cs[7].CreatedAt, cpfB)
		return append(cs, twin)
	}

	seed := func(t *testing.T) (credit.ConsultationStore, []credit.Consultation) {
		s := newStore(t, realClock)
		cs := corpus()
		for _, c := range cs {
			require.NoError(t, s.CreateConsultation(ctx, c))
		}
		return s, cs
	}

	t.Run("the center lists newest first across months, without reports", func(t *testing.T) {
		s, cs := seed(t)
		for _, limit := range []int{1, 2, 3, 50} {
			got := collect(t, func(p credit.Page) ([]credit.Consultation, string, error) {
				return s.ListConsultations(ctx, credit.ConsultationFilter{}, p)
			}, limit)
			assert.Equal(t, []string{"k09", "k08", "k07", "k06", "k05", "k04", "k03", "k02", "k01"}, ids(got), "limit %d", limit)
			byID := map[string]credit.Consultation{}
			for _, c := range cs {
				byID[c.ID] = c
			}
			for _, c := range got {
				assert.Equal(t, withoutReport(byID[c.ID]), c)
			}
		}
	})

	t.Run("filters", func(t *testing.T) {
		s, _ := seed(t)
		date := func(s string) credit.Date { d, _ := credit.ParseDate(s); return d }
		tests := []struct {
			name string
			f    credit.ConsultationFilter
			want []string
		}{
			{"from and to are São Paulo days, both included", credit.ConsultationFilter{From: date("2026-01-01"), To: date("2026-01-31")}, []string{"k05", "k04", "k03"}},
			{"to alone", credit.ConsultationFilter{To: date("2025-12-31")}, []string{"k02", "k01"}},
			{"from alone", credit.ConsultationFilter{From: date("2026-02-01")}, []string{"k09", "k08", "k07", "k06"}},
			{"one day", credit.ConsultationFilter{From: date("2026-02-01"), To: date("2026-02-01")}, []string{"k06"}},
			{"a period with nothing", credit.ConsultationFilter{From: date("2024-01-01"), To: date("2024-12-31")}, nil},
			{"integration", credit.ConsultationFilter{IntegrationID: "int-2"}, []string{"k08", "k07", "k04"}},
			{"plan", credit.ConsultationFilter{Plan: credit.PlanNegativeIndicator}, []string{"k06", "k02"}},
			{"status", credit.ConsultationFilter{Status: credit.ConsultationFailed}, []string{"k07", "k03"}},
			{"document", credit.ConsultationFilter{Document: credit.MustParseDocument(cpfA)}, []string{"k08", "k05", "k03", "k01"}},
			{"document and status", credit.ConsultationFilter{Document: credit.MustParseDocument(cpfA), Status: credit.ConsultationSucceeded}, []string{"k08", "k05", "k01"}},
			{"document and period", credit.ConsultationFilter{Document: credit.MustParseDocument(cpfA), From: date("2026-01-01"), To: date("2026-02-28")}, []string{"k05", "k03"}},
			{"integration, plan and period", credit.ConsultationFilter{IntegrationID: "int-1", Plan: credit.PlanReportScore, From: date("2025-12-01")}, []string{"k09", "k05", "k03"}},
			{"integration and document", credit.ConsultationFilter{IntegrationID: "int-2", Document: credit.MustParseDocument(cnpj)}, []string{"k07", "k04"}},
			{"unknown document", credit.ConsultationFilter{Document: credit.MustParseDocument("10000000108")}, nil},
			{"one branch", credit.ConsultationFilter{Branches: credit.Branches{"b2"}}, []string{"k08", "k07", "k04"}},
			{"both branches", credit.ConsultationFilter{Branches: credit.Branches{"b2", "b1"}}, []string{"k09", "k08", "k07", "k06", "k05", "k04", "k03", "k02", "k01"}},
			{"no branch", credit.ConsultationFilter{Branches: credit.Branches{}}, nil},
			{"a branch without records", credit.ConsultationFilter{Branches: credit.Branches{"b9"}}, nil},
			{"branch and document", credit.ConsultationFilter{Branches: credit.Branches{"b1"}, Document: credit.MustParseDocument(cpfA)}, []string{"k05", "k03", "k01"}},
			{"branch and period", credit.ConsultationFilter{Branches: credit.Branches{"b1"}, From: date("2026-01-01")}, []string{"k09", "k06", "k05", "k03"}},
			{"branch and another branch's integration", credit.ConsultationFilter{Branches: credit.Branches{"b1"}, IntegrationID: "int-2"}, nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				for _, limit := range []int{1, 2, 50} {
					got := collect(t, func(p credit.Page) ([]credit.Consultation, string, error) {
						return s.ListConsultations(ctx, tt.f, p)
					}, limit)
					if tt.want == nil {
						assert.Empty(t, got)
						continue
					}
					assert.Equal(t, tt.want, ids(got), "limit %d", limit)
				}
			})
		}
	})

	t.Run("cursors are checked", func(t *testing.T) {
		s, _ := seed(t)
		_, next, err := s.ListConsultations(ctx, credit.ConsultationFilter{}, credit.Page{Limit: 2})
		require.NoError(t, err)
		require.NotEmpty(t, next)
		_, _, err = s.ListConsultations(ctx, credit.ConsultationFilter{Status: credit.ConsultationFailed}, credit.Page{Limit: 2, Cursor: next})
		assert.Equal(t, credit.CodeInvalidCursor, credit.ErrorCode(err), "a cursor of another query")
		_, _, err = s.ListPartyConsultations(ctx, credit.PartyRef{Kind: credit.PartyCustomer, ID: "cust-1"}, credit.Page{Limit: 2, Cursor: next})
		assert.Equal(t, credit.CodeInvalidCursor, credit.ErrorCode(err), "a center cursor on a party")
		_, next, err = s.ListConsultations(ctx, credit.ConsultationFilter{Branches: credit.Branches{"b1"}}, credit.Page{Limit: 1})
		require.NoError(t, err)
		require.NotEmpty(t, next)
		_, _, err = s.ListConsultations(ctx, credit.ConsultationFilter{Branches: credit.Branches{"b2"}}, credit.Page{Limit: 1, Cursor: next})
		assert.Equal(t, credit.CodeInvalidCursor, credit.ErrorCode(err), "a cursor of other branches")
		for _, bad := range []string{"%%%", "bm90IGEgY3Vyc29y", "e30"} {
			_, _, err = s.ListConsultations(ctx, credit.ConsultationFilter{}, credit.Page{Limit: 2, Cursor: bad})
			assert.Equal(t, credit.CodeInvalidCursor, credit.ErrorCode(err), bad)
		}
	})

	t.Run("a party's consultations", func(t *testing.T) {
		s, _ := seed(t)
		for _, limit := range []int{1, 2, 50} {
			got := collect(t, func(p credit.Page) ([]credit.Consultation, string, error) {
				return s.ListPartyConsultations(ctx, credit.PartyRef{Kind: credit.PartyCustomer, ID: "cust-1"}, p)
			}, limit)
			assert.Equal(t, []string{"k08", "k05", "k03"}, ids(got))
			for _, c := range got {
				assert.Nil(t, c.Report)
			}
		}
		got := collect(t, func(p credit.Page) ([]credit.Consultation, string, error) {
			return s.ListPartyConsultations(ctx, credit.PartyRef{Kind: credit.PartyLead, ID: "cust-1"}, p)
		}, 10)
		assert.Equal(t, []string{"k06"}, ids(got), "kinds are separate")
		got = collect(t, func(p credit.Page) ([]credit.Consultation, string, error) {
			return s.ListPartyConsultations(ctx, credit.PartyRef{Kind: credit.PartyProspect, ID: "nobody"}, p)
		}, 10)
		assert.Empty(t, got)
	})

	t.Run("last success of a document", func(t *testing.T) {
		s := newStore(t, realClock)
		doc := credit.MustParseDocument(cpfA)
		_, found, err := s.LastSucceededConsultation(ctx, doc)
		require.NoError(t, err)
		assert.False(t, found)

		require.NoError(t, s.CreateConsultation(ctx, NewFailedConsultation("f1", sp(2026, 1, 1, 10, 0), cpfA)))
		_, found, err = s.LastSucceededConsultation(ctx, doc)
		require.NoError(t, err)
		assert.False(t, found, "a failure does not count")

		first := NewTestConsultation("s1", sp(2026, 1, 2, 10, 0), cpfA)
		require.NoError(t, s.CreateConsultation(ctx, first))
		ref, found, err := s.LastSucceededConsultation(ctx, doc)
		require.NoError(t, err)
		require.True(t, found)
		assert.Equal(t, credit.ConsultationRef{ID: "s1", CreatedAt: first.CreatedAt}, ref)

		second := NewTestConsultation("s2", sp(2026, 1, 3, 10, 0), cpfA)
		require.NoError(t, s.CreateConsultation(ctx, second))
		require.NoError(t, s.CreateConsultation(ctx, NewFailedConsultation("f2", sp(2026, 1, 4, 10, 0), cpfA)))
		require.NoError(t, s.CreateConsultation(ctx, NewTestConsultation("other", sp(2026, 1, 5, 10, 0), cpfB)))
		ref, found, err = s.LastSucceededConsultation(ctx, doc)
		require.NoError(t, err)
		require.True(t, found)
		assert.Equal(t, credit.ConsultationRef{ID: "s2", CreatedAt: second.CreatedAt}, ref)
	})

	t.Run("a mark reads the latest success in the same write", func(t *testing.T) {
		s := newStore(t, realClock)
		doc := credit.MustParseDocument(cpfA)
		_, found, err := s.LockDocument(ctx, doc, "a", time.Minute)
		require.NoError(t, err)
		assert.False(t, found, "never consulted")
		require.NoError(t, s.UnlockDocument(ctx, doc, "a"))

		first := NewTestConsultation("m1", sp(2026, 1, 2, 10, 0), cpfA)
		require.NoError(t, s.CreateConsultation(ctx, first))
		require.NoError(t, s.CreateConsultation(ctx, NewFailedConsultation("m2", sp(2026, 1, 3, 10, 0), cpfA)))
		require.NoError(t, s.CreateConsultation(ctx, NewTestConsultation("m3", sp(2026, 1, 4, 10, 0), cpfB)))
		ref, found, err := s.LockDocument(ctx, doc, "b", time.Minute)
		require.NoError(t, err)
		require.True(t, found)
		assert.Equal(t, credit.ConsultationRef{ID: "m1", CreatedAt: first.CreatedAt}, ref, "a failure and another document do not count")

		second := NewTestConsultation("m4", sp(2026, 1, 5, 10, 0), cpfA)
		require.NoError(t, s.CreateConsultationUnlocking(ctx, second, "b"))
		ref, found, err = s.LockDocument(ctx, doc, "c", time.Minute)
		require.NoError(t, err, "released with the record")
		require.True(t, found)
		assert.Equal(t, credit.ConsultationRef{ID: "m4", CreatedAt: second.CreatedAt}, ref)
		require.NoError(t, s.UnlockDocument(ctx, doc, "c"))
		ref, found, err = s.LastSucceededConsultation(ctx, doc)
		require.NoError(t, err)
		assert.True(t, found)
		assert.Equal(t, "m4", ref.ID, "releasing a mark keeps the latest success")

		_, _, err = s.LockDocument(ctx, credit.MustParseDocument(cpfB), "d", time.Minute)
		require.NoError(t, err)
		_, found, err = s.LockDocument(ctx, credit.MustParseDocument(cpfB), "e", time.Minute)
		assert.Equal(t, credit.CodeConsultationInProgress, credit.ErrorCode(err))
		assert.False(t, found, "a refused mark reads nothing")
	})

	t.Run("document marks", func(t *testing.T) {
		var mu sync.Mutex
		now := time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC)
		clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
		s := newStore(t, clock)
		doc, other := credit.MustParseDocument(cpfA), credit.MustParseDocument(cnpj)

		require.NoError(t, mark(ctx, s, doc, "a"))
		err := mark(ctx, s, doc, "b")
		assert.Equal(t, credit.CodeConsultationInProgress, credit.ErrorCode(err))
		assert.Equal(t, credit.KindConflict, credit.ErrorKind(err))
		require.NoError(t, mark(ctx, s, other, "b"), "marks are per document")

		require.NoError(t, s.UnlockDocument(ctx, doc, "b"), "another owner's unlock is a no-op")
		err = mark(ctx, s, doc, "c")
		assert.Equal(t, credit.CodeConsultationInProgress, credit.ErrorCode(err))

		require.NoError(t, s.UnlockDocument(ctx, doc, "a"))
		require.NoError(t, mark(ctx, s, doc, "c"), "free after its owner's unlock")

		advance(59 * time.Second)
		err = mark(ctx, s, doc, "d")
		assert.Equal(t, credit.CodeConsultationInProgress, credit.ErrorCode(err), "still held just before expiry")
		advance(2 * time.Second)
		require.NoError(t, mark(ctx, s, doc, "d"), "an expired mark is taken over")
		require.NoError(t, s.UnlockDocument(ctx, doc, "c"), "the old owner cannot free the new mark")
		err = mark(ctx, s, doc, "e")
		assert.Equal(t, credit.CodeConsultationInProgress, credit.ErrorCode(err))
		require.NoError(t, s.UnlockDocument(ctx, credit.MustParseDocument(cpfB), "zzz"), "unlocking nothing is fine")
	})

	t.Run("a record that releases its mark", func(t *testing.T) {
		var mu sync.Mutex
		now := time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC)
		clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
		s := newStore(t, clock)
		doc := credit.MustParseDocument(cpfA)

		require.NoError(t, mark(ctx, s, doc, "a"))
		first := NewTestConsultation("rel-1", now, cpfA)
		require.NoError(t, s.CreateConsultationUnlocking(ctx, first, "a"))
		got, err := s.GetConsultation(ctx, "rel-1")
		require.NoError(t, err)
		assert.Equal(t, "rel-1", got.ID)
		ref, found, err := s.LastSucceededConsultation(ctx, doc)
		require.NoError(t, err)
		assert.True(t, found)
		assert.Equal(t, "rel-1", ref.ID, "the latest success, in the same write")
		require.NoError(t, mark(ctx, s, doc, "b"), "the mark was released with the record")

		// b's mark expires and c takes it over; b's record leaves c's mark.
		advance(2 * time.Minute)
		require.NoError(t, mark(ctx, s, doc, "c"))
		require.NoError(t, s.CreateConsultationUnlocking(ctx, NewTestConsultation("rel-2", now, cpfA), "b"))
		_, err = s.GetConsultation(ctx, "rel-2")
		require.NoError(t, err, "the record is written when the mark is another's")
		err = mark(ctx, s, doc, "d")
		assert.Equal(t, credit.CodeConsultationInProgress, credit.ErrorCode(err), "another owner's mark stays")
	})

	t.Run("concurrent marks of one document: exactly one wins", func(t *testing.T) {
		s := newStore(t, realClock)
		doc := credit.MustParseDocument(cpfB)
		const n = 12
		var wg sync.WaitGroup
		errs := make([]error, n)
		for k := 0; k < n; k++ {
			wg.Add(1)
			go func(k int) {
				defer wg.Done()
				errs[k] = mark(ctx, s, doc, fmt.Sprintf("owner-%d", k))
			}(k)
		}
		wg.Wait()
		wins := 0
		for _, err := range errs {
			if err == nil {
				wins++
			} else {
				assert.Equal(t, credit.CodeConsultationInProgress, credit.ErrorCode(err))
			}
		}
		assert.Equal(t, 1, wins)
	})

	t.Run("concurrent creates are all listed", func(t *testing.T) {
		s := newStore(t, realClock)
		const n = 10
		var wg sync.WaitGroup
		base := sp(2026, 4, 1, 9, 0)
		for k := 0; k < n; k++ {
			wg.Add(1)
			go func(k int) {
				defer wg.Done()
				c := NewTestConsultation(fmt.Sprintf("p%02d", k), base.Add(time.Duration(k)*time.Minute), cpfA)
				c.Party = &credit.PartyRef{Kind: credit.PartyCustomer, ID: "c-race"}
				assert.NoError(t, s.CreateConsultation(ctx, c))
			}(k)
		}
		wg.Wait()
		all := collect(t, func(p credit.Page) ([]credit.Consultation, string, error) {
			return s.ListConsultations(ctx, credit.ConsultationFilter{}, p)
		}, 4)
		assert.Len(t, all, n)
		onParty := collect(t, func(p credit.Page) ([]credit.Consultation, string, error) {
			return s.ListPartyConsultations(ctx, credit.PartyRef{Kind: credit.PartyCustomer, ID: "c-race"}, p)
		}, 4)
		assert.Len(t, onParty, n)
		ref, found, err := s.LastSucceededConsultation(ctx, credit.MustParseDocument(cpfA))
		require.NoError(t, err)
		require.True(t, found)
		assert.Contains(t, ids(all), ref.ID)
	})

	t.Run("erasing a report keeps the minimal record, off the party's list", func(t *testing.T) {
		s := newStore(t, realClock)
		c := NewTestConsultation("e1", sp(2026, 5, 4, 9, 0), cpfA)
		c.Party = &credit.PartyRef{Kind: credit.PartyCustomer, ID: "cust-e"}
		c.Warnings = []credit.Warning{{Code: credit.WarningRepeatConfirmed, Message: "Nova consulta confirmada."}}
		c.ReportKey = "reports/2026/05/0123456789abcdef0123456789abcdef.json.gz"
		c.ReportExpiresAt = c.CreatedAt.Add(90 * 24 * time.Hour)
		other := NewTestConsultation("e2", sp(2026, 5, 4, 10, 0), cpfB)
		other.Party = &credit.PartyRef{Kind: credit.PartyCustomer, ID: "cust-e"}
		for _, x := range []credit.Consultation{c, other} {
			require.NoError(t, s.CreateConsultation(ctx, x))
		}
		at := sp(2026, 6, 1, 12, 0).UTC()
		require.NoError(t, s.EraseConsultationReport(ctx, "e1", at))

		got, err := s.GetConsultation(ctx, "e1")
		require.NoError(t, err)
		want := c.Erased(at)
		assert.Equal(t, want, got)
		assert.Nil(t, got.Report)
		assert.Empty(t, got.Overview.Name, "no name is left")
		assert.Empty(t, got.PDFKey)
		assert.Empty(t, got.ReportKey)
		assert.Nil(t, got.Party)
		assert.Equal(t, at, got.ReportErasedAt)
		assert.Equal(t, at, got.ReportExpiresAt, "the report expires when erased")
		assert.Equal(t, c.Protocol, got.Protocol, "the minimal record stays")

		listed := collect(t, func(p credit.Page) ([]credit.Consultation, string, error) {
			return s.ListConsultations(ctx, credit.ConsultationFilter{Document: credit.MustParseDocument(cpfA)}, p)
		}, 10)
		require.Equal(t, []string{"e1"}, ids(listed), "still in the center")
		assert.Equal(t, want, listed[0])
		onParty := collect(t, func(p credit.Page) ([]credit.Consultation, string, error) {
			return s.ListPartyConsultations(ctx, credit.PartyRef{Kind: credit.PartyCustomer, ID: "cust-e"}, p)
		}, 10)
		assert.Equal(t, []string{"e2"}, ids(onParty), "off the party's list; the other stays")
		ref, found, err := s.LastSucceededConsultation(ctx, credit.MustParseDocument(cpfA))
		require.NoError(t, err)
		assert.True(t, found, "the interval rule still sees the consultation")
		assert.Equal(t, "e1", ref.ID)

		require.NoError(t, s.EraseConsultationReport(ctx, "e1", at.Add(time.Hour)), "again")
		again, err := s.GetConsultation(ctx, "e1")
		require.NoError(t, err)
		assert.Equal(t, want, again, "a second erasure changes nothing")

		err = s.EraseConsultationReport(ctx, "missing", at)
		assert.Equal(t, credit.KindNotFound, credit.ErrorKind(err))
	})

	t.Run("a report that was not archived is dropped from the record and the party's list", func(t *testing.T) {
		s := newStore(t, realClock)
		c := NewTestConsultation("d1", sp(2026, 5, 4, 9, 0), cpfA)
		c.Party = &credit.PartyRef{Kind: credit.PartyCustomer, ID: "cust-d"}
		c.Warnings = []credit.Warning{{Code: credit.WarningRepeatConfirmed, Message: "Nova consulta confirmada."}}
		c.Report, c.ReportKey = nil, "reports/2026/05/0123456789abcdef0123456789abcdef.json.gz"
		c.ReportExpiresAt = c.CreatedAt.Add(90 * 24 * time.Hour)
		other := NewTestConsultation("d2", sp(2026, 5, 4, 10, 0), cpfA)
		other.Party = c.Party
		for _, x := range []credit.Consultation{c, other} {
			require.NoError(t, s.CreateConsultation(ctx, x))
		}
		require.NoError(t, s.DropConsultationReport(ctx, c))

		want := c.WithoutReport()
		got, err := s.GetConsultation(ctx, "d1")
		require.NoError(t, err)
		assert.Equal(t, want, got)
		assert.Empty(t, got.ReportKey)
		assert.Empty(t, got.PDFKey)
		assert.Empty(t, got.Overview.Name)
		assert.Equal(t, c.Protocol, got.Protocol)
		onParty := collect(t, func(p credit.Page) ([]credit.Consultation, string, error) {
			return s.ListPartyConsultations(ctx, *c.Party, p)
		}, 10)
		require.Equal(t, []string{"d2", "d1"}, ids(onParty), "still on the party's list")
		assert.Equal(t, want, onParty[1])
		assert.Equal(t, withoutReport(other), onParty[0], "the other keeps its report")
		ref, found, err := s.LastSucceededConsultation(ctx, credit.MustParseDocument(cpfA))
		require.NoError(t, err)
		assert.True(t, found)
		assert.Equal(t, "d2", ref.ID)

		err = s.DropConsultationReport(ctx, NewTestConsultation("missing", sp(2026, 5, 4, 9, 0), cpfA))
		assert.Equal(t, credit.KindNotFound, credit.ErrorKind(err))
	})

	t.Run("erasing keeps an earlier end of retention", func(t *testing.T) {
		s := newStore(t, realClock)
		c := NewFailedConsultation("e3", sp(2026, 5, 4, 9, 0), cpfA)
		c.ReportExpiresAt = c.CreatedAt.Add(24 * time.Hour)
		require.NoError(t, s.CreateConsultation(ctx, c))
		at := sp(2026, 6, 1, 12, 0).UTC()
		require.NoError(t, s.EraseConsultationReport(ctx, "e3", at))
		got, err := s.GetConsultation(ctx, "e3")
		require.NoError(t, err)
		assert.Equal(t, c.ReportExpiresAt, got.ReportExpiresAt)
		assert.Equal(t, at, got.ReportErasedAt)
		assert.Empty(t, got.ErrorMessage)
	})
}

// mark takes owner's mark on doc for a minute, leaving aside the latest
// success it reads.
func mark(ctx context.Context, s credit.ConsultationStore, doc credit.Document, owner string) error {
	_, _, err := s.LockDocument(ctx, doc, owner, time.Minute)
	return err
}
