package credit_test

import (
	"encoding/json"
	"testing"
	"time"

	"creditanalysis/shared/credit"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func day(s string) time.Time {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return d
}

func TestParsePercent(t *testing.T) {
	tests := []struct {
		in   string
		want credit.BasisPoints
		bad  bool
	}{
		{in: "12,50%", want: 1250},
		{in: "12,5%", want: 1250},
		{in: "12,05%", want: 1205},
		{in: "7%", want: 700},
		{in: "0,01 %", want: 1},
		{in: "100%", want: 10000},
		{in: "35,2", want: 3520},
		{in: "100,01%", bad: true},
		{in: "12.5%", bad: true},
		{in: "12,%", bad: true},
		{in: "12,505%", bad: true},
		{in: "-1%", bad: true},
		{in: "%", bad: true},
		{in: "", bad: true},
		{in: "1000%", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := credit.ParsePercent(tt.in)
			if tt.bad {
				require.Error(t, err)
				assert.Equal(t, credit.CodeInvalidPercent, credit.ErrorCode(err))
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			again, err := credit.ParsePercent(got.Percent())
			require.NoError(t, err)
			assert.Equal(t, got, again)
		})
	}
	assert.Equal(t, "12,50%", credit.BasisPoints(1250).Percent())
	assert.Equal(t, "0,05%", credit.BasisPoints(5).Percent())
}

func TestNewSectionSummarizes(t *testing.T) {
	entries := []credit.Pendency{
		{Kind: credit.PendencyPEFIN, Date: day("2024-03-10"), Amount: 123456},
		{Kind: credit.PendencyREFIN, Date: day("2022-01-05"), Amount: 100},
		{Kind: credit.PendencyPEFIN, Date: day("2025-07-01"), Amount: 99},
	}
	s := credit.NewSection(entries)
	assert.Equal(t, credit.Summary{Count: 3, Oldest: day("2022-01-05"), Newest: day("2025-07-01"), Total: 123655}, s.Summary)
	assert.Equal(t, entries, s.Entries)

	empty := credit.NewSection[credit.Protest](nil)
	assert.Equal(t, credit.Summary{}, empty.Summary)
	b, err := json.Marshal(empty)
	require.NoError(t, err)
	assert.JSONEq(t, `{"summary": {"count": 0, "totalCents": 0}, "entries": []}`, string(b))

	// Bankruptcies carry no amount.
	bk := credit.NewSection([]credit.Bankruptcy{{Date: day("2020-02-02"), Kind: "Falência decretada"}})
	assert.Equal(t, credit.Cents(0), bk.Summary.Total)
	assert.Equal(t, 1, bk.Summary.Count)
}

func TestReportJSONShape(t *testing.T) {
	r := credit.Report{
		Protocol: "P1",
		Identity: credit.Identity{Name: "Maria", BirthDate: day("1980-05-17"), DocumentStatus: "REGULAR", MotherName: "Ana"},
		Score:    &credit.Score{Value: 640, Class: "C", DefaultProbability: 1250, Message: "m"},
		Pendencies: credit.NewSection([]credit.Pendency{
			{Kind: credit.PendencyPEFIN, Date: day("2024-03-10"), Modality: "Financiamento", Amount: 123456, Contract: "C1", Origin: "Loja"},
		}),
		Protests:     credit.NewSection[credit.Protest](nil),
		BadCheques:   credit.NewSection[credit.BadCheque](nil),
		Lawsuits:     credit.NewSection[credit.Lawsuit](nil),
		Bankruptcies: credit.NewSection[credit.Bankruptcy](nil),
		Occurrences:  1,
		Raw:          json.RawMessage(`{"x":1}`),
	}
	b, err := json.Marshal(r.WithoutRaw())
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	assert.NotContains(t, m, "raw")
	assert.Equal(t, map[string]any{"value": 640.0, "class": "C", "defaultProbability": 1250.0, "message": "m"}, m["score"])
	for _, section := range []string{"identity", "pendencies", "protests", "badCheques", "lawsuits", "bankruptcies", "previousConsultations", "protocol", "occurrences"} {
		assert.Contains(t, m, section)
	}
	pend := m["pendencies"].(map[string]any)
	assert.Equal(t, 123456.0, pend["summary"].(map[string]any)["totalCents"])
	assert.Equal(t, 123456.0, pend["entries"].([]any)[0].(map[string]any)["amountCents"])
	assert.Equal(t, "1980-05-17T00:00:00Z", m["identity"].(map[string]any)["birthDate"])
	assert.NotContains(t, m["identity"], "foundationDate")

	withRaw, err := json.Marshal(r)
	require.NoError(t, err)
	assert.Contains(t, string(withRaw), `"raw":{"x":1}`)

	assert.False(t, r.NothingRecorded())
	assert.True(t, credit.Report{}.NothingRecorded())
}
