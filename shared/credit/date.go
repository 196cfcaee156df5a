package credit

import (
	"encoding/json"
	"sync"
	"time"
	_ "time/tzdata" // Lambda's al2023 image has no zoneinfo
)

// Date is a calendar date without time of day or zone (a due date, a birth
// date, a payment date), written YYYY-MM-DD.
type Date struct {
	t time.Time // midnight UTC
}

// ParseDate reads YYYY-MM-DD strictly.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, err
	}
	return Date{t: t}, nil
}

// DateOf is the calendar date of t in loc.
func DateOf(t time.Time, loc *time.Location) Date {
	y, m, d := t.In(loc).Date()
	return Date{t: time.Date(y, m, d, 0, 0, 0, 0, time.UTC)}
}

// NewDate builds a date.
func NewDate(y int, m time.Month, d int) Date {
	return Date{t: time.Date(y, m, d, 0, 0, 0, 0, time.UTC)}
}

func (d Date) IsZero() bool             { return d.t.IsZero() }
func (d Date) String() string           { return d.t.Format(time.DateOnly) }
func (d Date) Before(o Date) bool       { return d.t.Before(o.t) }
func (d Date) After(o Date) bool        { return d.t.After(o.t) }
func (d Date) AddDays(n int) Date       { return Date{t: d.t.AddDate(0, 0, n)} }
func (d Date) AddYears(n int) Date      { return Date{t: d.t.AddDate(n, 0, 0)} }
func (d Date) Weekday() time.Weekday    { return d.t.Weekday() }
func (d Date) Time() time.Time          { return d.t }
func (d Date) DaysUntil(later Date) int { return int(later.t.Sub(d.t).Hours() / 24) }
func (d Date) Compare(o Date) int       { return d.t.Compare(o.t) }

// YearsUntil is the number of whole years from d to later (an age).
func (d Date) YearsUntil(later Date) int {
	years := later.t.Year() - d.t.Year()
	if later.t.Month() < d.t.Month() || (later.t.Month() == d.t.Month() && later.t.Day() < d.t.Day()) {
		years--
	}
	return years
}

func (d Date) MarshalJSON() ([]byte, error) {
	if d.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(d.String())
}

func (d *Date) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*d = Date{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	parsed, err := ParseDate(s)
	if err != nil {
		return err
	}
	*d = parsed
	return nil
}

// SaoPaulo is the zone of the business day for due dates and reports,
// loaded on first use rather than at every cold start.
var SaoPaulo = sync.OnceValue(func() *time.Location {
	loc, err := time.LoadLocation("America/Sao_Paulo")
	if err != nil {
		panic(err) // embedded by time/tzdata: cannot happen
	}
	return loc
})
