package connectsa

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"creditanalysis/infra/connectsa-sandbox/sandbox"
	"creditanalysis/shared/credit"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func fixture(t testing.TB, name string) []byte {
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return b
}

func TestParseConsultationFixtures(t *testing.T) {
	t.Run("several kinds", func(t *testing.T) {
		raw := fixture(t, "consulta_varias_restricoes.json")
		r, err := parseConsultation(raw, credit.MustParseDocument("10000000442"))
		require.NoError(t, err)
		assert.JSONEq(t, string(raw), string(r.Raw))
		assert.NotEmpty(t, r.Protocol)
		assert.Equal(t, "Cliente Teste Várias Restrições", r.Identity.Name)
		assert.Equal(t, "REGULAR", r.Identity.DocumentStatus)
		assert.Equal(t, &credit.Score{Value: 120, Class: "E", DefaultProbability: 7920, Message: "Probabilidade de inadimplência de 79,20% nos próximos 12 meses."}, r.Score)
		assert.Equal(t, []credit.Pendency{
			{Kind: credit.PendencyPEFIN, Date: day(2025, 1, 15), Modality: "Prestação de serviços", Amount: 8990, Contract: "INT-2025-01", Origin: "Telecom Ficção Ltda"},
			{Kind: credit.PendencyPEFIN, Date: day(2024, 3, 10), Modality: "Financiamento", Amount: 123456, Contract: "CT-0001", Origin: "Loja Exemplo Ltda"},
			{Kind: credit.PendencyREFIN, Date: day(2021, 7, 1), Modality: "Financiamento imobiliário", Amount: 100000000, Contract: "IMOB-9", Origin: "Banco Exemplo S.A."},
		}, r.Pendencies.Entries)
		assert.Equal(t, credit.Summary{Count: 3, Oldest: day(2021, 7, 1), Newest: day(2025, 1, 15), Total: 100132446}, r.Pendencies.Summary)
		assert.Equal(t, []credit.Protest{{Date: day(2023, 9, 12), Amount: 543210, Notary: "3º Tabelião de Protesto", City: "Belo Horizonte", UF: "MG"}}, r.Protests.Entries)
		assert.Equal(t, []credit.BadCheque{{Date: day(2022, 5, 30), Bank: "001", Agency: "1234", Quantity: 2, Amount: 45000, City: "Curitiba", UF: "PR"}}, r.BadCheques.Entries)
		assert.Equal(t, []credit.Lawsuit{{Date: day(2022, 10, 4), Nature: "Execução de título", Amount: 4800000, Court: "2ª Vara Cível", City: "Porto Alegre", UF: "RS"}}, r.Lawsuits.Entries)
		assert.Empty(t, r.Bankruptcies.Entries)
		assert.Equal(t, 6, r.Occurrences)
		assert.Equal(t, 8, r.PreviousConsultations.Last90Days)
		assert.Len(t, r.PreviousConsultations.Entries, 8)
	})
	t.Run("company", func(t *testing.T) {
		r, err := parseConsultation(fixture(t, "consulta_empresa.json"), credit.MustParseDocument("10000002000134"))
		require.NoError(t, err)
		assert.Equal(t, day(1985, 6, 11), r.Identity.FoundationDate)
		assert.True(t, r.Identity.BirthDate.IsZero())
		assert.Equal(t, []credit.Bankruptcy{{Date: day(2024, 2, 27), Kind: "Recuperação judicial", Court: "1ª Vara Empresarial", City: "Salvador", UF: "BA"}}, r.Bankruptcies.Entries)
		assert.Equal(t, credit.Cents(25000000), r.Lawsuits.Summary.Total)
	})
	t.Run("negatives indicator has no score", func(t *testing.T) {
		r, err := parseConsultation(fixture(t, "consulta_indicador_nada_consta.json"), credit.MustParseDocument("10000000108"))
		require.NoError(t, err)
		assert.Nil(t, r.Score)
		assert.True(t, r.NothingRecorded())
	})
	t.Run("numbers as text, nulls and partial lists", func(t *testing.T) {
		r, err := parseConsultation(fixture(t, "consulta_tipos_texto.json"), credit.MustParseDocument("10000000280"))
		require.NoError(t, err)
		assert.Equal(t, "987654321", r.Protocol)
		assert.Equal(t, "FULANA DE TAL", r.Identity.Name, "the consulted name fills an empty identity name")
		assert.Equal(t, &credit.Score{Value: 455, Class: "C", DefaultProbability: 3520, Message: "Risco moderado"}, r.Score)
		// The bureau counts three pendencies and lists two: its summary wins.
		assert.Len(t, r.Pendencies.Entries, 2)
		assert.Equal(t, credit.Summary{Count: 3, Oldest: day(2023, 1, 1), Newest: day(2024, 8, 15), Total: 1000000}, r.Pendencies.Summary)
		assert.Equal(t, credit.PendencyPEFIN, r.Pendencies.Entries[0].Kind)
		assert.Equal(t, credit.Summary{}, r.Protests.Summary)
		assert.NotNil(t, r.Protests.Entries)
		assert.NotNil(t, r.Lawsuits.Entries, "an absent section is empty")
		assert.Equal(t, 3, r.Occurrences)
		assert.Equal(t, credit.PreviousConsultations{Last15Days: 1, Last30Days: 1, Last60Days: 2, Last90Days: 2, Entries: []credit.PreviousConsultation{}}, r.PreviousConsultations)
	})
}

// FuzzParseConsultation feeds the parser anything: it must answer a report or
// a bureau error, never panic, and a report must hold together.
func FuzzParseConsultation(f *testing.F) {
	for _, name := range []string{"consulta_varias_restricoes.json", "consulta_empresa.json", "consulta_indicador_nada_consta.json", "consulta_tipos_texto.json"} {
		b := fixture(f, name)
		f.Add(b)
		f.Add(b[:len(b)/2])
	}
	for _, s := range []string{
		"", "null", "[]", "{}", `{"status":null}`, `{"status":{"codigoResposta":0}}`,
		`{"status":{"codigoResposta":0,"protocolo":"1"},"resultado":{}}`,
		`{"status":{"codigoResposta":"9223372036854775808"}}`,
		`{"status":{"codigoResposta":2,"mensagem":"\u0000\u001b[31m"}}`,
		`{"status":{"codigoResposta":0,"protocolo":"1"},"resultado":{"score":{"pontuacao":1e400}}}`,
		`{"status":{"codigoResposta":0,"protocolo":"1"},"resultado":{"protestos":{"quantidadeOcorrencias":-1}}}`,
		`{"status":{"codigoResposta":0,"protocolo":"1"},"resultado":{"pendenciasFinanceiras":{"registros":[{"tipo":"PEFIN","valor":"R$ 1.000.000.000.000,00"},{"tipo":"PEFIN","valor":"R$ 1.000.000.000.000,00"}]}}}`,
	} {
		f.Add([]byte(s))
	}
	doc := credit.MustParseDocument("10000000442")
	f.Fuzz(func(t *testing.T, raw []byte) {
		r, err := parseConsultation(raw, doc)
		if err != nil {
			e, ok := credit.AsError(err)
			require.True(t, ok, "a bare error: %v", err)
			assert.Contains(t, []string{credit.CodeBureauMalformedAnswer, credit.CodeBureauRejected, credit.CodeBureauBadCredentials, credit.CodeBureauUnavailable}, e.Code)
			return
		}
		assert.True(t, json.Valid(r.Raw))
		assert.NotEmpty(t, r.Protocol)
		if r.Score != nil {
			assert.True(t, r.Score.Value >= 0 && r.Score.Value <= credit.MaxScore)
			assert.True(t, r.Score.DefaultProbability >= 0 && r.Score.DefaultProbability <= 10000)
		}
		assert.GreaterOrEqual(t, r.Pendencies.Summary.Count, len(r.Pendencies.Entries))
		assert.GreaterOrEqual(t, r.Protests.Summary.Count, len(r.Protests.Entries))
		for _, p := range r.Pendencies.Entries {
			assert.GreaterOrEqual(t, p.Amount, credit.Cents(0))
			assert.Contains(t, []credit.PendencyKind{credit.PendencyPEFIN, credit.PendencyREFIN}, p.Kind)
		}
		_, err = json.Marshal(r)
		assert.NoError(t, err)
	})
}

// BenchmarkParseConsultation is the adapter's own cost of turning a full
// answer into a report.
func BenchmarkParseConsultation(b *testing.B) {
	raw := fixture(b, "consulta_varias_restricoes.json")
	doc := credit.MustParseDocument("10000000442")
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if _, err := parseConsultation(raw, doc); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkConsult is a whole consultation through the adapter against the
// sandbox over loopback HTTP with no added latency: form encoding, the HTTP
// exchange on a pooled connection, the sandbox's own work, and parsing.
func BenchmarkConsult(b *testing.B) {
	sb := sandbox.New(sandbox.Config{})
	srv := httptest.NewServer(sb)
	defer srv.Close()
	client := New(Config{BaseURLs: map[credit.Environment]string{credit.EnvironmentHomologation: srv.URL}}, nil)
	acct := credit.BureauAccount{Environment: credit.EnvironmentHomologation, Credentials: credit.Credentials{Login: "bench", ConsultationPassword: "Bench@12", PEFINPassword: "147258"}}
	q := credit.ConsultQuery{Document: credit.MustParseDocument("10000000442"), Plan: credit.PlanReportScore, UF: "SP"}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := client.Consult(ctx, acct, q); err != nil {
			b.Fatal(err)
		}
	}
}
