package httpapi

import (
	"time"

	"creditanalysis/shared/credit"
)

// reportView is a credit report as callers see it: every section, never the
// bureau's raw answer. Amounts are integer centavos whose names end in
// "Cents"; dates are midnight UTC.
type reportView struct {
	Protocol              string                      `json:"protocol"`
	Identity              identityView                `json:"identity"`
	Score                 *scoreView                  `json:"score"`
	Occurrences           int                         `json:"occurrences"`
	Pendencies            sectionView[pendencyView]   `json:"pendencies"`
	Protests              sectionView[protestView]    `json:"protests"`
	BadCheques            sectionView[badChequeView]  `json:"badCheques"`
	Lawsuits              sectionView[lawsuitView]    `json:"lawsuits"`
	Bankruptcies          sectionView[bankruptcyView] `json:"bankruptcies"`
	PreviousConsultations previousConsultationsView   `json:"previousConsultations"`
}

type identityView struct {
	Name           string    `json:"name"`
	BirthDate      time.Time `json:"birthDate,omitzero"`
	FoundationDate time.Time `json:"foundationDate,omitzero"`
	DocumentStatus string    `json:"documentStatus"`
	MotherName     string    `json:"motherName,omitempty"`
}

type scoreView struct {
	Value              int                `json:"value"`
	Class              string             `json:"class"`
	DefaultProbability credit.BasisPoints `json:"defaultProbability"`
	Message            string             `json:"message"`
}

type sectionView[V any] struct {
	Summary summaryView `json:"summary"`
	Entries []V         `json:"entries"`
}

type summaryView struct {
	Count  int          `json:"count"`
	Oldest time.Time    `json:"oldest,omitzero"`
	Newest time.Time    `json:"newest,omitzero"`
	Total  credit.Cents `json:"totalCents"`
}

type pendencyView struct {
	Kind     credit.PendencyKind `json:"kind"`
	Date     time.Time           `json:"date"`
	Modality string              `json:"modality"`
	Amount   credit.Cents        `json:"amountCents"`
	Contract string              `json:"contract"`
	Origin   string              `json:"origin"`
}

type protestView struct {
	Date   time.Time    `json:"date"`
	Amount credit.Cents `json:"amountCents"`
	Notary string       `json:"notary"`
	City   string       `json:"city"`
	UF     string       `json:"uf"`
}

type badChequeView struct {
	Date     time.Time    `json:"date"`
	Bank     string       `json:"bank"`
	Agency   string       `json:"agency"`
	Quantity int          `json:"quantity"`
	Amount   credit.Cents `json:"amountCents"`
	City     string       `json:"city"`
	UF       string       `json:"uf"`
}

type lawsuitView struct {
	Date   time.Time    `json:"date"`
	Nature string       `json:"nature"`
	Amount credit.Cents `json:"amountCents"`
	Court  string       `json:"court"`
	City   string       `json:"city"`
	UF     string       `json:"uf"`
}

type bankruptcyView struct {
	Date  time.Time `json:"date"`
	Kind  string    `json:"kind"`
	Court string    `json:"court"`
	City  string    `json:"city"`
	UF    string    `json:"uf"`
}

type previousConsultationsView struct {
	Last15Days int                        `json:"last15Days"`
	Last30Days int                        `json:"last30Days"`
	Last60Days int                        `json:"last60Days"`
	Last90Days int                        `json:"last90Days"`
	Entries    []previousConsultationView `json:"entries"`
}

type previousConsultationView struct {
	Date    time.Time `json:"date"`
	Company string    `json:"company"`
}

func viewReport(r credit.Report) reportView {
	v := reportView{
		Protocol: r.Protocol,
		Identity: identityView{Name: r.Identity.Name, BirthDate: r.Identity.BirthDate, FoundationDate: r.Identity.FoundationDate,
			DocumentStatus: r.Identity.DocumentStatus, MotherName: r.Identity.MotherName},
		Occurrences:  r.Occurrences,
		Pendencies:   viewSection(r.Pendencies, func(p credit.Pendency) pendencyView { return pendencyView(p) }),
		Protests:     viewSection(r.Protests, func(p credit.Protest) protestView { return protestView(p) }),
		BadCheques:   viewSection(r.BadCheques, func(b credit.BadCheque) badChequeView { return badChequeView(b) }),
		Lawsuits:     viewSection(r.Lawsuits, func(l credit.Lawsuit) lawsuitView { return lawsuitView(l) }),
		Bankruptcies: viewSection(r.Bankruptcies, func(b credit.Bankruptcy) bankruptcyView { return bankruptcyView(b) }),
		PreviousConsultations: previousConsultationsView{
			Last15Days: r.PreviousConsultations.Last15Days, Last30Days: r.PreviousConsultations.Last30Days,
			Last60Days: r.PreviousConsultations.Last60Days, Last90Days: r.PreviousConsultations.Last90Days,
			Entries: mapKeepingNil(r.PreviousConsultations.Entries, func(p credit.PreviousConsultation) previousConsultationView {
				return previousConsultationView(p)
			}),
		},
	}
	if r.Score != nil {
		s := scoreView(*r.Score)
		v.Score = &s
	}
	return v
}

func viewSection[E credit.Entry, V any](s credit.Section[E], view func(E) V) sectionView[V] {
	return sectionView[V]{
		Summary: summaryView(s.Summary),
		Entries: mapKeepingNil(s.Entries, view),
	}
}

// mapKeepingNil maps a list, answering null for a nil one as the report
// always has: a report's empty section is [] only when the bureau's adapter
// made it so.
func mapKeepingNil[T, V any](items []T, view func(T) V) []V {
	if items == nil {
		return nil
	}
	return viewAll(items, view)
}
