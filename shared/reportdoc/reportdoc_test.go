package reportdoc

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"creditanalysis/shared/credit"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files under testdata")

func storedReport() credit.Report {
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	return credit.Report{
		Protocol: "P1",
		Identity: credit.Identity{Name: "Maria Silva", BirthDate: day(1980, 5, 17), DocumentStatus: "REGULAR", MotherName: "Ana"},
		Score:    &credit.Score{Value: 640, Class: "C", DefaultProbability: 1250, Message: "m"},
		Pendencies: credit.NewSection([]credit.Pendency{{Kind: credit.PendencyREFIN, Date: day(2024, 3, 10),
			Modality: "Financiamento", Amount: 123456, Contract: "C1", Origin: "Banco"}}),
		Protests:     credit.NewSection([]credit.Protest{{Date: day(2023, 1, 2), Amount: 500, Notary: "1º", City: "Campinas", UF: "SP"}}),
		BadCheques:   credit.NewSection([]credit.BadCheque{{Date: day(2022, 4, 5), Bank: "001", Agency: "1234", Quantity: 2, Amount: 300, City: "Santos", UF: "SP"}}),
		Lawsuits:     credit.NewSection([]credit.Lawsuit{{Date: day(2021, 6, 7), Nature: "Execução", Amount: 999, Court: "TJSP", City: "São Paulo", UF: "SP"}}),
		Bankruptcies: credit.NewSection([]credit.Bankruptcy{{Date: day(2020, 2, 2), Kind: "Falência decretada", Court: "1ª Vara", City: "São Paulo", UF: "SP"}}),
		PreviousConsultations: credit.PreviousConsultations{Last15Days: 1, Last30Days: 2, Last60Days: 3, Last90Days: 4,
			Entries: []credit.PreviousConsultation{{Date: day(2026, 3, 1), Company: "Banco X"}}},
		Occurrences: 5,
		Raw:         json.RawMessage(`{"bureau":"answer as received"}`),
	}
}

// The stored JSON stays the same bytes, and a report on file reads back
// whole, raw answer included (the DynamoDB store's own test pins the same
// files through a consultation item).
func TestStoredReportShape(t *testing.T) {
	for name, r := range map[string]credit.Report{
		"full": storedReport(),
		"cnpj-nothing-recorded": {Protocol: "P2", Identity: credit.Identity{Name: "ACME", FoundationDate: time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC), DocumentStatus: "ATIVA"},
			Pendencies: credit.NewSection[credit.Pendency](nil), Protests: credit.NewSection[credit.Protest](nil),
			BadCheques: credit.NewSection[credit.BadCheque](nil), Lawsuits: credit.NewSection[credit.Lawsuit](nil),
			Bankruptcies: credit.NewSection[credit.Bankruptcy](nil)},
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("testdata", "report-"+name+".json")
			js, err := Marshal(r)
			require.NoError(t, err)
			if *updateGolden {
				require.NoError(t, os.WriteFile(path, js, 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "run go test -run %s -update to write it", t.Name())
			assert.Equal(t, string(want), string(js))

			back, err := Unmarshal(want)
			require.NoError(t, err)
			assert.Equal(t, r, back)
		})
	}
}
