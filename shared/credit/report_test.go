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
	assert.NotNil(t, empty.Entries)
	assert.Empty(t, empty.Entries)

	// Bankruptcies carry no amount.
	bk := credit.NewSection([]credit.Bankruptcy{{Date: day("2020-02-02"), Kind: "Falência decretada"}})
	assert.Equal(t, credit.Cents(0), bk.Summary.Total)
	assert.Equal(t, 1, bk.Summary.Count)
}

func TestReportWithoutRaw(t *testing.T) {
	r := credit.Report{Protocol: "P1", Occurrences: 1, Raw: json.RawMessage(`{"x":1}`)}
	assert.Equal(t, credit.Report{Protocol: "P1", Occurrences: 1}, r.WithoutRaw())
	assert.JSONEq(t, `{"x":1}`, string(r.Raw), "the original keeps its raw answer")

	assert.False(t, r.NothingRecorded())
	assert.True(t, credit.Report{}.NothingRecorded())
}
