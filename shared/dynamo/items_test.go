package dynamo

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"creditanalysis/shared/credit"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files under testdata")

// golden compares got with testdata/name, which -update rewrites.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *updateGolden {
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -run %s -update to write it", t.Name())
	assert.Equal(t, string(want), string(got))
}

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

// A consultation item keeps its report as gzipped JSON: the bytes written
// stay the same, and a report written before reads back whole, raw answer
// included.
func TestStoredReportShape(t *testing.T) {
	for name, r := range map[string]credit.Report{
		"full": storedReport(),
		"cnpj-nothing-recorded": {Protocol: "P2", Identity: credit.Identity{Name: "ACME", FoundationDate: time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC), DocumentStatus: "ATIVA"},
			Pendencies: credit.NewSection[credit.Pendency](nil), Protests: credit.NewSection[credit.Protest](nil),
			BadCheques: credit.NewSection[credit.BadCheque](nil), Lawsuits: credit.NewSection[credit.Lawsuit](nil),
			Bankruptcies: credit.NewSection[credit.Bankruptcy](nil)},
	} {
		t.Run(name, func(t *testing.T) {
			c := credit.Consultation{ID: "con-1", CreatedAt: time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC),
				Status: credit.ConsultationSucceeded, Document: credit.MustParseDocument("52998224725"), Report: &r}
			it, err := toConsultationItem(c)
			require.NoError(t, err)
			zr, err := gzip.NewReader(bytes.NewReader(it.Report))
			require.NoError(t, err)
			js, err := io.ReadAll(zr)
			require.NoError(t, err)
			golden(t, "report-"+name+".json", js)

			// What is on file reads back as the report it was written from.
			want, err := os.ReadFile(filepath.Join("testdata", "report-"+name+".json"))
			require.NoError(t, err)
			var buf bytes.Buffer
			zw := gzip.NewWriter(&buf)
			_, _ = zw.Write(want)
			require.NoError(t, zw.Close())
			it.Report = buf.Bytes()
			back, err := it.consultation()
			require.NoError(t, err)
			require.NotNil(t, back.Report)
			assert.Equal(t, r, *back.Report)
		})
	}
}

// A party item's address keeps its attribute names, so parties written
// before read back.
func TestStoredPartyShape(t *testing.T) {
	p := credit.Party{Kind: credit.PartyCustomer, ID: "c-1", BranchID: "b-1", Document: credit.MustParseDocument("52998224725"),
		Name: "Maria Silva", Gender: credit.GenderFemale, BirthDate: credit.NewDate(1980, 5, 17), MobilePhone: "11987654321",
		Address: credit.Address{CEP: "01310100", Street: "Av. Paulista", Number: "1000", Complement: "ap 1",
			Neighborhood: "Bela Vista", City: "São Paulo", UF: "SP"},
		AutoNegativation: credit.AutoNegativationYes,
		CreatedAt:        time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC), UpdatedAt: time.Date(2026, 3, 14, 15, 9, 27, 0, time.UTC),
		UpdatedBy: credit.Actor{Subject: "u-1", Name: "Ana"}}
	item, err := attributevalue.MarshalMap(toPartyItem(p))
	require.NoError(t, err)
	var plain map[string]any
	require.NoError(t, attributevalue.UnmarshalMap(item, &plain))
	js, err := json.MarshalIndent(plain, "", "  ")
	require.NoError(t, err)
	golden(t, "party-item.json", append(js, '\n'))

	var it partyItem
	require.NoError(t, attributevalue.UnmarshalMap(item, &it))
	assert.Equal(t, p, it.party())
}

// TestEncodedItemsHoldNoEmptyMap: DynamoDB Local's stream gives an empty
// map no type, so no item is written with one, at any depth; it reads back
// as the zero value all the same.
func TestEncodedItemsHoldNoEmptyMap(t *testing.T) {
	type inner struct {
		Status string    `dynamodbav:"status"`
		Actor  actorItem `dynamodbav:"actor"`
	}
	type doc struct {
		Skipped map[string]int `dynamodbav:"skipped"`
		By      actorItem      `dynamodbav:"by"`
		History []inner        `dynamodbav:"history"`
		Kept    actorItem      `dynamodbav:"kept"`
	}
	in := doc{Skipped: map[string]int{}, History: []inner{{Status: "pending"}}, Kept: actorItem{Subject: "u-1"}}
	item, err := marshal(in, nil)
	require.NoError(t, err)
	assert.NotContains(t, item, "skipped")
	assert.NotContains(t, item, "by")
	require.Contains(t, item, "history")
	assert.NotContains(t, item["history"].(*types.AttributeValueMemberL).Value[0].(*types.AttributeValueMemberM).Value, "actor",
		"a list's entry holds no empty actor")
	assert.Contains(t, item, "kept")

	var out doc
	require.NoError(t, attributevalue.UnmarshalMap(item, &out))
	assert.Equal(t, doc{History: []inner{{Status: "pending"}}, Kept: actorItem{Subject: "u-1"}}, out)
}
