// Package reportdoc is the stored form of a credit report: the JSON both
// stores that keep a report write (the consultation item's report
// attribute in DynamoDB, the archive object in S3), the bureau's raw answer
// included. The domain's types carry no storage tags; this package owns the
// names, which are the ones reports were first written with.
package reportdoc

import (
	"encoding/json"
	"time"

	"creditanalysis/shared/credit"
)

// reportItem is the stored JSON of a report. Its names are the ones
// reports were first written with: change none, or the reports on file stop
// reading back.
type reportItem struct {
	Protocol              string                      `json:"protocol"`
	Identity              identityItem                `json:"identity"`
	Score                 *scoreItem                  `json:"score"`
	Occurrences           int                         `json:"occurrences"`
	Pendencies            sectionItem[pendencyItem]   `json:"pendencies"`
	Protests              sectionItem[protestItem]    `json:"protests"`
	BadCheques            sectionItem[badChequeItem]  `json:"badCheques"`
	Lawsuits              sectionItem[lawsuitItem]    `json:"lawsuits"`
	Bankruptcies          sectionItem[bankruptcyItem] `json:"bankruptcies"`
	PreviousConsultations previousConsultationsItem   `json:"previousConsultations"`
	Raw                   json.RawMessage             `json:"raw,omitempty"`
}

type identityItem struct {
	Name           string    `json:"name"`
	BirthDate      time.Time `json:"birthDate,omitzero"`
	FoundationDate time.Time `json:"foundationDate,omitzero"`
	DocumentStatus string    `json:"documentStatus"`
	MotherName     string    `json:"motherName,omitempty"`
}

type scoreItem struct {
	Value              int                `json:"value"`
	Class              string             `json:"class"`
	DefaultProbability credit.BasisPoints `json:"defaultProbability"`
	Message            string             `json:"message"`
}

type sectionItem[I any] struct {
	Summary summaryItem `json:"summary"`
	Entries []I         `json:"entries"`
}

type summaryItem struct {
	Count  int          `json:"count"`
	Oldest time.Time    `json:"oldest,omitzero"`
	Newest time.Time    `json:"newest,omitzero"`
	Total  credit.Cents `json:"totalCents"`
}

type pendencyItem struct {
	Kind     credit.PendencyKind `json:"kind"`
	Date     time.Time           `json:"date"`
	Modality string              `json:"modality"`
	Amount   credit.Cents        `json:"amountCents"`
	Contract string              `json:"contract"`
	Origin   string              `json:"origin"`
}

type protestItem struct {
	Date   time.Time    `json:"date"`
	Amount credit.Cents `json:"amountCents"`
	Notary string       `json:"notary"`
	City   string       `json:"city"`
	UF     string       `json:"uf"`
}

type badChequeItem struct {
	Date     time.Time    `json:"date"`
	Bank     string       `json:"bank"`
	Agency   string       `json:"agency"`
	Quantity int          `json:"quantity"`
	Amount   credit.Cents `json:"amountCents"`
	City     string       `json:"city"`
	UF       string       `json:"uf"`
}

type lawsuitItem struct {
	Date   time.Time    `json:"date"`
	Nature string       `json:"nature"`
	Amount credit.Cents `json:"amountCents"`
	Court  string       `json:"court"`
	City   string       `json:"city"`
	UF     string       `json:"uf"`
}

type bankruptcyItem struct {
	Date  time.Time `json:"date"`
	Kind  string    `json:"kind"`
	Court string    `json:"court"`
	City  string    `json:"city"`
	UF    string    `json:"uf"`
}

type previousConsultationsItem struct {
	Last15Days int                        `json:"last15Days"`
	Last30Days int                        `json:"last30Days"`
	Last60Days int                        `json:"last60Days"`
	Last90Days int                        `json:"last90Days"`
	Entries    []previousConsultationItem `json:"entries"`
}

type previousConsultationItem struct {
	Date    time.Time `json:"date"`
	Company string    `json:"company"`
}

// The entry items have the domain entries' fields, so each converts both
// ways; a field added on one side only stops the build here.

func toReportItem(r credit.Report) reportItem {
	pc := r.PreviousConsultations
	it := reportItem{
		Protocol: r.Protocol, Identity: identityItem(r.Identity), Occurrences: r.Occurrences,
		Pendencies:   toSectionItem(r.Pendencies, func(e credit.Pendency) pendencyItem { return pendencyItem(e) }),
		Protests:     toSectionItem(r.Protests, func(e credit.Protest) protestItem { return protestItem(e) }),
		BadCheques:   toSectionItem(r.BadCheques, func(e credit.BadCheque) badChequeItem { return badChequeItem(e) }),
		Lawsuits:     toSectionItem(r.Lawsuits, func(e credit.Lawsuit) lawsuitItem { return lawsuitItem(e) }),
		Bankruptcies: toSectionItem(r.Bankruptcies, func(e credit.Bankruptcy) bankruptcyItem { return bankruptcyItem(e) }),
		PreviousConsultations: previousConsultationsItem{
			Last15Days: pc.Last15Days, Last30Days: pc.Last30Days, Last60Days: pc.Last60Days, Last90Days: pc.Last90Days,
			Entries: convertAll(pc.Entries, func(e credit.PreviousConsultation) previousConsultationItem { return previousConsultationItem(e) }),
		},
		Raw: r.Raw,
	}
	if r.Score != nil {
		s := scoreItem(*r.Score)
		it.Score = &s
	}
	return it
}

func (it reportItem) report() credit.Report {
	pc := it.PreviousConsultations
	r := credit.Report{
		Protocol: it.Protocol, Identity: credit.Identity(it.Identity), Occurrences: it.Occurrences,
		Pendencies:   fromSectionItem(it.Pendencies, func(e pendencyItem) credit.Pendency { return credit.Pendency(e) }),
		Protests:     fromSectionItem(it.Protests, func(e protestItem) credit.Protest { return credit.Protest(e) }),
		BadCheques:   fromSectionItem(it.BadCheques, func(e badChequeItem) credit.BadCheque { return credit.BadCheque(e) }),
		Lawsuits:     fromSectionItem(it.Lawsuits, func(e lawsuitItem) credit.Lawsuit { return credit.Lawsuit(e) }),
		Bankruptcies: fromSectionItem(it.Bankruptcies, func(e bankruptcyItem) credit.Bankruptcy { return credit.Bankruptcy(e) }),
		PreviousConsultations: credit.PreviousConsultations{
			Last15Days: pc.Last15Days, Last30Days: pc.Last30Days, Last60Days: pc.Last60Days, Last90Days: pc.Last90Days,
			Entries: convertAll(pc.Entries, func(e previousConsultationItem) credit.PreviousConsultation { return credit.PreviousConsultation(e) }),
		},
		Raw: it.Raw,
	}
	if it.Score != nil {
		s := credit.Score(*it.Score)
		r.Score = &s
	}
	return r
}

func toSectionItem[E credit.Entry, I any](s credit.Section[E], convert func(E) I) sectionItem[I] {
	return sectionItem[I]{Summary: summaryItem(s.Summary), Entries: convertAll(s.Entries, convert)}
}

func fromSectionItem[I any, E credit.Entry](s sectionItem[I], convert func(I) E) credit.Section[E] {
	return credit.Section[E]{Summary: credit.Summary(s.Summary), Entries: convertAll(s.Entries, convert)}
}

// convertAll maps a list, nil staying nil: what was written null reads
// back nil.
func convertAll[T, U any](items []T, convert func(T) U) []U {
	if items == nil {
		return nil
	}
	out := make([]U, len(items))
	for i, it := range items {
		out[i] = convert(it)
	}
	return out
}

// Marshal is the stored JSON of r.
func Marshal(r credit.Report) ([]byte, error) { return json.Marshal(toReportItem(r)) }

// Unmarshal reads a report Marshal wrote.
func Unmarshal(data []byte) (credit.Report, error) {
	var it reportItem
	if err := json.Unmarshal(data, &it); err != nil {
		return credit.Report{}, err
	}
	return it.report(), nil
}
