package credit_test

import (
	"testing"
	"time"

	"creditanalysis/shared/credit"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func date(t *testing.T, s string) credit.Date {
	t.Helper()
	d, err := credit.ParseDate(s)
	require.NoError(t, err)
	return d
}

func TestEaster(t *testing.T) {
	for year, want := range map[int]string{
		1818: "1818-03-22", // earliest possible
		2000: "2000-04-23",
		2019: "2019-04-21",
		2024: "2024-03-31",
		2025: "2025-04-20",
		2026: "2026-04-05",
		2027: "2027-03-28",
		2038: "2038-04-25", // latest possible
	} {
		assert.Equal(t, want, credit.Easter(year).String(), "%d", year)
	}
}

func TestNationalHolidaysMoveWithEaster(t *testing.T) {
	names := map[string]string{}
	for _, h := range credit.NationalHolidays(2026) {
		names[h.Date.String()] = h.Name
	}
	assert.Equal(t, "Carnaval (segunda-feira)", names["2026-02-16"])
	assert.Equal(t, "Carnaval (terça-feira)", names["2026-02-17"])
	assert.Equal(t, "Sexta-feira Santa", names["2026-04-03"])
	assert.Equal(t, "Corpus Christi", names["2026-06-04"])
	assert.Equal(t, "Dia Nacional de Zumbi e da Consciência Negra", names["2026-11-20"])
	assert.Len(t, names, 13)

	for _, h := range credit.NationalHolidays(2023) {
		assert.NotEqual(t, "2023-11-20", h.Date.String(), "national only from 2024")
	}
}

func TestIsBusinessDay(t *testing.T) {
	tests := []struct {
		day  string
		want bool
	}{
		{"2026-05-04", true},  // Monday
		{"2026-05-02", false}, // Saturday
		{"2026-05-03", false}, // Sunday
		{"2026-05-01", false}, // Dia do Trabalho, a Friday
		{"2026-04-21", false}, // Tiradentes
		{"2026-09-07", false},
		{"2026-10-12", false},
		{"2026-11-02", false},
		{"2026-11-15", false}, // a Sunday anyway
		{"2026-12-25", false},
		{"2026-01-01", false},
		{"2025-03-03", false}, // Carnival 2025
		{"2025-03-04", false},
		{"2025-03-05", true}, // Ash Wednesday: business (from noon for banks)
		{"2025-04-18", false},
		{"2025-06-19", false}, // Corpus Christi 2025
		{"2023-11-20", true},  // a Monday before Lei 14.759/2023
		{"2024-11-20", false},
		{"2025-12-31", true},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, credit.IsBusinessDay(date(t, tt.day)), tt.day)
	}
}

func TestBusinessDaysBetween(t *testing.T) {
	tests := []struct {
		name     string
		from, to string
		want     int
	}{
		{"same day", "2026-05-06", "2026-05-06", 0},
		{"to before from", "2026-05-06", "2026-05-04", 0},
		{"next day", "2026-05-06", "2026-05-07", 1},
		{"paid on Friday, Monday is the first", "2026-05-08", "2026-05-11", 1},
		{"weekend alone counts nothing", "2026-05-08", "2026-05-10", 0},
		{"over Good Friday", "2026-04-02", "2026-04-08", 3},
		{"over Consciência Negra 2026", "2026-11-19", "2026-11-23", 1},
		{"Consciência Negra was not national in 2023", "2023-11-17", "2023-11-20", 1},
		{"over Christmas and New Year", "2025-12-24", "2026-01-02", 5},
		{"over Carnival", "2026-02-13", "2026-02-19", 2},
		{"all of 2026: 104 weekend days, 12 holidays on weekdays", "2025-12-31", "2026-12-31", 365 - 104 - 12},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, credit.BusinessDaysBetween(date(t, tt.from), date(t, tt.to)))
		})
	}
}

func TestAddBusinessDays(t *testing.T) {
	assert.Equal(t, "2026-04-10", credit.AddBusinessDays(date(t, "2026-04-02"), credit.RemovalDeadlineBusinessDays).String(), "Good Friday skipped")
	assert.Equal(t, "2026-05-15", credit.AddBusinessDays(date(t, "2026-05-08"), 5).String())
	assert.Equal(t, "2026-05-08", credit.AddBusinessDays(date(t, "2026-05-08"), 0).String())
	// The two agree: the deadline is the day the count reaches the term.
	from := date(t, "2025-12-24")
	deadline := credit.AddBusinessDays(from, 5)
	assert.Equal(t, 5, credit.BusinessDaysBetween(from, deadline))
	assert.Equal(t, 4, credit.BusinessDaysBetween(from, deadline.AddDays(-1)))
	assert.Equal(t, time.Friday, deadline.Weekday())
}
