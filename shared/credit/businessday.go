package credit

import "time"

// Business days (dias úteis) date the creditor's duty to remove a record
// within 5 business days of payment (STJ Súmula 548). The calendar is the
// national banking one the ISPs' billing runs on: no weekends, the fixed
// national holidays, and the holidays that move with Easter (Carnival Monday
// and Tuesday, Good Friday, Corpus Christi). Municipal and state holidays are
// not counted: the service does not know where each collector sits, and
// counting fewer holidays only makes the deadline earlier, never missed.

// RemovalDeadlineBusinessDays is the Súmula 548 term.
const RemovalDeadlineBusinessDays = 5

// Easter is Easter Sunday of year (Gregorian calendar, anonymous algorithm).
func Easter(year int) Date {
	a := year % 19
	b, c := year/100, year%100
	d, e := b/4, b%4
	f := (b + 8) / 25
	g := (b - f + 1) / 3
	h := (19*a + b - d - g + 15) % 30
	i, k := c/4, c%4
	l := (32 + 2*e + 2*i - h - k) % 7
	m := (a + 11*h + 22*l) / 451
	month := (h + l - 7*m + 114) / 31
	day := (h+l-7*m+114)%31 + 1
	return NewDate(year, time.Month(month), day)
}

// Holiday is a day without business.
type Holiday struct {
	Date Date
	Name string
}

// NationalHolidays lists year's holidays of the banking calendar, in date
// order.
func NationalHolidays(year int) []Holiday {
	easter := Easter(year)
	hs := []Holiday{
		{NewDate(year, time.January, 1), "Confraternização Universal"},
		{easter.AddDays(-48), "Carnaval (segunda-feira)"},
		{easter.AddDays(-47), "Carnaval (terça-feira)"},
		{easter.AddDays(-2), "Sexta-feira Santa"},
		{NewDate(year, time.April, 21), "Tiradentes"},
		{NewDate(year, time.May, 1), "Dia do Trabalho"},
		{easter.AddDays(60), "Corpus Christi"},
		{NewDate(year, time.September, 7), "Independência do Brasil"},
		{NewDate(year, time.October, 12), "Nossa Senhora Aparecida"},
		{NewDate(year, time.November, 2), "Finados"},
		{NewDate(year, time.November, 15), "Proclamação da República"},
	}
	if year >= 2024 { // Lei 14.759/2023 made it national
		hs = append(hs, Holiday{NewDate(year, time.November, 20), "Dia Nacional de Zumbi e da Consciência Negra"})
	}
	hs = append(hs, Holiday{NewDate(year, time.December, 25), "Natal"})
	return hs
}

// IsBusinessDay reports whether d is neither a weekend nor a holiday.
func IsBusinessDay(d Date) bool {
	switch d.Weekday() {
	case time.Saturday, time.Sunday:
		return false
	}
	for _, h := range NationalHolidays(d.Time().Year()) {
		if h.Date.Compare(d) == 0 {
			return false
		}
	}
	return true
}

// BusinessDaysBetween counts the business days after from up to and
// including to: a debt paid on a Friday has 1 business day elapsed on the
// next Monday. It is 0 when to is not after from.
func BusinessDaysBetween(from, to Date) int {
	n := 0
	for d := from.AddDays(1); !d.After(to); d = d.AddDays(1) {
		if IsBusinessDay(d) {
			n++
		}
	}
	return n
}

// AddBusinessDays is the n-th business day after d (n >= 1); d itself when
// n <= 0.
func AddBusinessDays(d Date, n int) Date {
	for n > 0 {
		d = d.AddDays(1)
		if IsBusinessDay(d) {
			n--
		}
	}
	return d
}
