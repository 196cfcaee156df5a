package pdf_test

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"creditanalysis/shared/credit"
	"creditanalysis/shared/credit/credittest"
	"creditanalysis/shared/pdf"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/encoding/charmap"
)

var showText = regexp.MustCompile(`\(((?:\\.|[^\\)])*)\)\s*Tj`)

// textOf reads the text an uncompressed PDF shows, in order: every string
// of a Tj operator, unescaped and decoded from cp1252.
func textOf(t *testing.T, doc []byte) string {
	t.Helper()
	var out []string
	for _, m := range showText.FindAllSubmatch(doc, -1) {
		raw := m[1]
		var b bytes.Buffer
		for i := 0; i < len(raw); i++ {
			if raw[i] != '\\' || i+1 == len(raw) {
				b.WriteByte(raw[i])
				continue
			}
			i++
			switch c := raw[i]; {
			case c == 'r':
				b.WriteByte('\r')
			case c == 'n':
				b.WriteByte('\n')
			case c >= '0' && c <= '7':
				j := i
				for j < len(raw) && j < i+3 && raw[j] >= '0' && raw[j] <= '7' {
					j++
				}
				n, _ := strconv.ParseUint(string(raw[i:j]), 8, 8)
				b.WriteByte(byte(n))
				i = j - 1
			default:
				b.WriteByte(c)
			}
		}
		s, err := charmap.Windows1252.NewDecoder().Bytes(b.Bytes())
		require.NoError(t, err)
		out = append(out, string(s))
	}
	return strings.Join(out, "\n")
}

func consultation(env credit.Environment) credit.Consultation {
	c := credittest.NewTestConsultation("cons-42", time.Date(2026, 3, 10, 15, 0, 0, 0, time.UTC), "52998224725")
	c.Environment = env
	return c
}

func render(t *testing.T, c credit.Consultation) (raw []byte, text string) {
	t.Helper()
	out, err := pdf.Renderer{Uncompressed: true}.Render(credit.ReportDocument{Consultation: c, GeneratedAt: time.Date(2026, 3, 11, 9, 30, 0, 0, time.UTC)})
	require.NoError(t, err)
	require.True(t, bytes.HasPrefix(out, []byte("%PDF-")))
	return out, textOf(t, out)
}

func pages(doc []byte) int { return bytes.Count(doc, []byte("/Type /Page\n")) }

func TestRenderFullReport(t *testing.T) {
	_, text := render(t, consultation(credit.EnvironmentHomologation))
	for _, want := range []string{
		"RELATÓRIO DE CONSULTA DE CRÉDITO",
		"Maria da Conceição Araújo", // the name, accents intact
		"412",                       // the score
		"CLASSE", "D",
		"Probabilidade de inadimplência: 23,75%",
		"R$ 1.234,56",     // a pendency
		"R$ 1.000.000,00", // the largest one
		"R$ 1.001.324,46", // pendencies' total
		"***.982.247-**",  // the masked CPF
		"Protocolo CSA-2026-000123456",
		"Consulta em 10/03/2026 12:00", // São Paulo time, not UTC
		"HOMOLOGAÇÃO",
		"Filial ID b1 · Ambiente Homologação",
		"Relatório + Score",
		"Nada consta", // bankruptcies: empty section
		"Total de ocorrências: 7",
		"Total: 3 ocorrência(s) · mais antiga em 21/07/2023 · mais recente em 10/02/2025", // the section's totals
		"Pendências financeiras (PEFIN / REFIN)", "Protestos", "Cheques sem fundo (CCF)", "Ações judiciais",
		"1º Tabelião de Protesto", "Execução de título",
		"Últimos 90 dias", "Financeira Modelo S.A.",
		"Página 1 de ",
		"PDF gerado em 11/03/2026 06:30",
	} {
		assert.Contains(t, text, want)
	}
	for _, leak := range []string{"52998224725", "529.982.247-25"} {
		assert.NotContains(t, text, leak, "the full document never appears")
	}
}

func TestRenderProductionHasNoHomologationMark(t *testing.T) {
	_, text := render(t, consultation(credit.EnvironmentProduction))
	assert.NotContains(t, text, "HOMOLOGAÇÃO")
	assert.Contains(t, text, "Ambiente Produção")
}

func TestRenderNothingRecorded(t *testing.T) {
	c := consultation(credit.EnvironmentProduction)
	r := credit.Report{
		Protocol: "P-1", Identity: credit.Identity{Name: "José Nada", DocumentStatus: "REGULAR"},
		Pendencies: credit.NewSection[credit.Pendency](nil), Protests: credit.NewSection[credit.Protest](nil),
		BadCheques: credit.NewSection[credit.BadCheque](nil), Lawsuits: credit.NewSection[credit.Lawsuit](nil),
		Bankruptcies: credit.NewSection[credit.Bankruptcy](nil),
	}
	c.Report, c.Plan = &r, credit.PlanNegativeIndicator
	_, text := render(t, c)
	assert.Contains(t, text, "NADA CONSTA")
	assert.Equal(t, 5, strings.Count(text, "Nada consta"), "one per empty section")
	assert.Contains(t, text, "O plano Indicador de negativos não inclui score")
	assert.Contains(t, text, "José Nada")
}

func TestRenderCompany(t *testing.T) {
	c := consultation(credit.EnvironmentProduction)
	c.Document = credit.MustParseDocument("12.ABC.345/01DE-35")
	c.Report.Identity = credit.Identity{Name: "Comércio Exemplo Ltda", FoundationDate: time.Date(2010, 5, 4, 0, 0, 0, 0, time.UTC), DocumentStatus: "ATIVA"}
	_, text := render(t, c)
	assert.Contains(t, text, "**.ABC.345/****-**")
	assert.NotContains(t, text, "12ABC34501DE35")
	assert.Contains(t, text, "Data de fundação")
	assert.Contains(t, text, "04/05/2010")
}

func TestRenderLongReportBreaksPages(t *testing.T) {
	c := consultation(credit.EnvironmentHomologation)
	var entries []credit.Pendency
	for i := 0; i < 120; i++ {
		entries = append(entries, credit.Pendency{Kind: credit.PendencyPEFIN, Date: time.Date(2024, 1, 1+i%28, 0, 0, 0, 0, time.UTC),
			Modality: "Prestação de serviços com um nome muito comprido que não cabe na coluna", Amount: credit.Cents(1000 + i),
			Contract: fmt.Sprintf("CT-%04d", i), Origin: "Credor Exemplo"})
	}
	c.Report.Pendencies = credit.NewSection(entries)
	raw, text := render(t, c)
	n := pages(raw)
	assert.GreaterOrEqual(t, n, 3)
	assert.Contains(t, text, fmt.Sprintf("Página %d de ", n))
	assert.Equal(t, n, strings.Count(text, "RELATÓRIO DE CONSULTA DE CRÉDITO"), "the header on every page")
	assert.Greater(t, strings.Count(text, "Modalidade"), 1, "the table header repeats after a break")
	assert.Contains(t, text, "CT-0119")
	assert.Contains(t, text, "…", "long cells are cut, not overflowing")
}

func TestRenderWithoutReport(t *testing.T) {
	c := consultation(credit.EnvironmentProduction)
	c.Report = nil
	_, err := pdf.Renderer{}.Render(credit.ReportDocument{Consultation: c})
	assert.Error(t, err)
}

func TestRenderIsCompressedByDefault(t *testing.T) {
	c := consultation(credit.EnvironmentHomologation)
	doc := credit.ReportDocument{Consultation: c, GeneratedAt: time.Date(2026, 3, 11, 9, 30, 0, 0, time.UTC)}
	packed, err := pdf.Renderer{}.Render(doc)
	require.NoError(t, err)
	plain, err := pdf.Renderer{Uncompressed: true}.Render(doc)
	require.NoError(t, err)
	assert.Less(t, len(packed), len(plain))
	assert.Contains(t, string(packed), "/FlateDecode")
	again, err := pdf.Renderer{}.Render(doc)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(packed, again), "the same document renders the same bytes")
}

// BenchmarkRender renders a full report (every section filled, homologation
// mark, compressed as stored). Goal: under 50 ms and 200 KB.
func BenchmarkRender(b *testing.B) {
	doc := credit.ReportDocument{Consultation: consultation(credit.EnvironmentHomologation), GeneratedAt: time.Date(2026, 3, 11, 9, 30, 0, 0, time.UTC)}
	var size int
	for b.Loop() {
		out, err := pdf.Renderer{}.Render(doc)
		if err != nil {
			b.Fatal(err)
		}
		size = len(out)
	}
	b.ReportMetric(float64(size), "bytes/pdf")
}

// A report with thousands of pendencies renders a bounded PDF: the first
// MaxListedEntries are listed, then one line counts and sums the rest.
func TestRenderLargeReportIsBounded(t *testing.T) {
	c := consultation(credit.EnvironmentHomologation)
	r := credittest.LargeReport(15000)
	c.Report = &r
	doc := credit.ReportDocument{Consultation: c, GeneratedAt: time.Date(2026, 3, 11, 9, 30, 0, 0, time.UTC)}

	stored, err := pdf.Renderer{}.Render(doc)
	require.NoError(t, err)
	assert.Less(t, len(stored), 512<<10, "the stored PDF stays well under a megabyte")
	n := pages(stored)
	assert.GreaterOrEqual(t, n, 5)
	assert.LessOrEqual(t, n, 12, "a few pages, not hundreds")

	raw, text := render(t, c)
	assert.Equal(t, n, pages(raw))
	assert.Less(t, len(raw), 1<<20, "even uncompressed")
	assert.Contains(t, text, fmt.Sprintf("CT-%06d", pdf.MaxListedEntries-1), "the last listed entry")
	assert.NotContains(t, text, fmt.Sprintf("CT-%06d", pdf.MaxListedEntries), "the first unlisted one")
	// Entries 300 to 14999 amount to 1000+i centavos each.
	assert.Contains(t, text, "… e mais 14700 ocorrência(s) não listada(s) neste PDF, somando R$ 1.271.476,50")
	assert.Contains(t, text, "Total: 15000 ocorrência(s)")
	assert.Contains(t, text, fmt.Sprintf("Página %d de ", n))
}

func TestRenderListsUpToMaxEntries(t *testing.T) {
	for _, tc := range []struct {
		entries  int
		wantMore string
	}{
		{pdf.MaxListedEntries, ""},
		{pdf.MaxListedEntries + 1, "… e mais 1 ocorrência(s) não listada(s) neste PDF, somando R$ 13,00"},
	} {
		t.Run(strconv.Itoa(tc.entries), func(t *testing.T) {
			c := consultation(credit.EnvironmentProduction)
			entries := make([]credit.Protest, tc.entries)
			for i := range entries {
				entries[i] = credit.Protest{Date: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), Amount: 1300, Notary: fmt.Sprintf("Cartório %d", i), City: "Campinas", UF: "SP"}
			}
			c.Report.Protests = credit.NewSection(entries)
			_, text := render(t, c)
			assert.Contains(t, text, fmt.Sprintf("Cartório %d", pdf.MaxListedEntries-1))
			if tc.wantMore == "" {
				assert.NotContains(t, text, "não listada(s) neste PDF")
				return
			}
			assert.Contains(t, text, tc.wantMore)
			assert.NotContains(t, text, fmt.Sprintf("Cartório %d\n", pdf.MaxListedEntries))
		})
	}
}
