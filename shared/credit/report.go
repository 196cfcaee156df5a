package credit

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// Report is a credit report normalized from the bureau's answer: the same
// shape whatever the plan, with the sections a Serasa Crednet report has.
// Sections the plan does not cover are empty; Score is nil when the plan
// gives none.
//
// Dates are calendar days at midnight UTC. Money is in Cents.
type Report struct {
	// Protocol is the bureau's number for this consultation, the reference
	// for any dispute with the partner.
	Protocol string
	Identity Identity
	Score    *Score
	// Occurrences is the bureau's count of every restriction in the report
	// ("quadro resumo"); zero means "nada consta".
	Occurrences           int
	Pendencies            Section[Pendency]
	Protests              Section[Protest]
	BadCheques            Section[BadCheque]
	Lawsuits              Section[Lawsuit]
	Bankruptcies          Section[Bankruptcy]
	PreviousConsultations PreviousConsultations
	// Raw is the bureau's answer as received, kept for audit. It holds the
	// full document: store it, never answer it.
	Raw json.RawMessage
}

// WithoutRaw returns r without the bureau's raw answer, the form callers see.
func (r Report) WithoutRaw() Report {
	r.Raw = nil
	return r
}

// NothingRecorded reports "nada consta": no restriction of any kind.
func (r Report) NothingRecorded() bool {
	return r.Occurrences == 0 &&
		r.Pendencies.Summary.Count == 0 && r.Protests.Summary.Count == 0 &&
		r.BadCheques.Summary.Count == 0 && r.Lawsuits.Summary.Count == 0 &&
		r.Bankruptcies.Summary.Count == 0
}

// Identity is who the bureau says the document belongs to.
type Identity struct {
	Name string
	// BirthDate is set for a CPF, FoundationDate for a CNPJ.
	BirthDate      time.Time
	FoundationDate time.Time
	// DocumentStatus is the document's standing at the Receita Federal as
	// the bureau words it ("REGULAR", "SUSPENSA", "CANCELADA", ...).
	DocumentStatus string
	MotherName     string
}

// Score is the bureau's credit score.
type Score struct {
	// Value goes from 0 (highest risk) to 1000 (lowest).
	Value int
	// Class is the bureau's risk class for the value, as it names it.
	Class string
	// DefaultProbability is the probability of default in basis points:
	// 1250 means 12,50%.
	DefaultProbability BasisPoints
	Message            string
}

// MaxScore is the top of the score scale.
const MaxScore = 1000

// BasisPoints is a percentage in hundredths of a percent, so that rates
// stay integers: 1250 is 12,50%, 10000 is 100%.
type BasisPoints int

// CodeInvalidPercent is the code of a text that is not a valid percentage.
const CodeInvalidPercent = "invalid_percent"

// ParsePercent reads a percentage written the Brazilian way: "12,5%",
// "12,50%", "7%", with at most two decimals after a comma, between 0% and
// 100%. The "%" sign is optional.
func ParsePercent(s string) (BasisPoints, error) {
	bad := NewError(KindInvalid, CodeInvalidPercent, "Percentual inválido.")
	s = strings.TrimSpace(s)
	s = strings.TrimSpace(strings.TrimSuffix(s, "%"))
	whole, frac, hasFrac := strings.Cut(s, ",")
	if whole == "" || len(whole) > 3 || !allDigits(whole) || (hasFrac && (len(frac) < 1 || len(frac) > 2 || !allDigits(frac))) {
		return 0, bad
	}
	w, _ := strconv.Atoi(whole)
	f := 0
	if hasFrac {
		f, _ = strconv.Atoi(frac)
		if len(frac) == 1 {
			f *= 10
		}
	}
	bp := BasisPoints(w*100 + f)
	if bp > 10000 {
		return 0, bad
	}
	return bp, nil
}

// Percent formats b the way ParsePercent reads it: "12,50%".
func (b BasisPoints) Percent() string {
	sign := ""
	if b < 0 {
		sign, b = "-", -b
	}
	return sign + strconv.Itoa(int(b)/100) + "," + twoDigits(int(b)%100) + "%"
}

func twoDigits(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

// Entry is one line of a report section: it has a date and, for the kinds
// that carry one, an amount.
type Entry interface {
	EntryDate() time.Time
	EntryAmount() Cents
}

// Section is one block of the report: its entries and their summary.
type Section[E Entry] struct {
	Summary Summary
	Entries []E
}

// Summary totals a section. Count and Total may exceed what Entries shows
// when the bureau lists only the latest entries.
type Summary struct {
	Count  int
	Oldest time.Time
	Newest time.Time
	Total  Cents
}

// NewSection builds a section whose summary is computed from entries.
// Entries is never nil, so that answers show an empty list rather than null.
func NewSection[E Entry](entries []E) Section[E] {
	if entries == nil {
		entries = []E{}
	}
	return Section[E]{Summary: Summarize(entries), Entries: entries}
}

// Summarize counts entries, finds the oldest and newest dates and totals the
// amounts.
func Summarize[E Entry](entries []E) Summary {
	s := Summary{Count: len(entries)}
	for _, e := range entries {
		d := e.EntryDate()
		if !d.IsZero() && (s.Oldest.IsZero() || d.Before(s.Oldest)) {
			s.Oldest = d
		}
		if d.After(s.Newest) {
			s.Newest = d
		}
		s.Total += e.EntryAmount()
	}
	return s
}

// PendencyKind tells the two kinds of financial pendency apart.
type PendencyKind string

const (
	// PendencyPEFIN is a debt registered by a creditor outside the banking
	// system ("pendência financeira").
	PendencyPEFIN PendencyKind = "PEFIN"
	// PendencyREFIN is a debt registered by a bank ("restrição financeira").
	PendencyREFIN PendencyKind = "REFIN"
)

// Pendency is a financial pendency ("pendência financeira").
type Pendency struct {
	Kind     PendencyKind
	Date     time.Time
	Modality string
	Amount   Cents
	Contract string
	// Origin is the creditor that registered the debt.
	Origin string
}

func (p Pendency) EntryDate() time.Time { return p.Date }
func (p Pendency) EntryAmount() Cents   { return p.Amount }

// Protest is a protest at a notary office ("protesto").
type Protest struct {
	Date   time.Time
	Amount Cents
	Notary string
	City   string
	UF     string
}

func (p Protest) EntryDate() time.Time { return p.Date }
func (p Protest) EntryAmount() Cents   { return p.Amount }

// BadCheque is a bounced-cheque record ("cheque sem fundo", CCF).
type BadCheque struct {
	Date     time.Time
	Bank     string
	Agency   string
	Quantity int
	Amount   Cents
	City     string
	UF       string
}

func (b BadCheque) EntryDate() time.Time { return b.Date }
func (b BadCheque) EntryAmount() Cents   { return b.Amount }

// Lawsuit is a lawsuit against the document's holder ("ação judicial").
type Lawsuit struct {
	Date   time.Time
	Nature string
	Amount Cents
	Court  string
	City   string
	UF     string
}

func (l Lawsuit) EntryDate() time.Time { return l.Date }
func (l Lawsuit) EntryAmount() Cents   { return l.Amount }

// Bankruptcy is a bankruptcy or judicial recovery ("falência", "recuperação
// judicial"); it carries no amount.
type Bankruptcy struct {
	Date  time.Time
	Kind  string
	Court string
	City  string
	UF    string
}

func (b Bankruptcy) EntryDate() time.Time { return b.Date }
func (b Bankruptcy) EntryAmount() Cents   { return 0 }

// PreviousConsultations counts the consultations of the same document by
// other companies in the last 15, 30, 60 and 90 days; each count includes the
// shorter periods. Entries lists them when the bureau does.
type PreviousConsultations struct {
	Last15Days int
	Last30Days int
	Last60Days int
	Last90Days int
	Entries    []PreviousConsultation
}

// PreviousConsultation is one earlier consultation of the document.
type PreviousConsultation struct {
	Date    time.Time
	Company string
}
