package sandbox

import (
	"slices"
	"time"

	"creditanalysis/shared/credit"
)

func (s *Server) consult(form formValues, now time.Time) outcome {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, st := s.login(form, kindConsultation, "password")
	if st != nil {
		return outcome{body: statusOnly{*st}}
	}
	product := form.get("consulta")
	if !slices.ContainsFunc(a.products, func(p wireCode) bool { return p.Code == product }) {
		return rejected("Produto " + product + " não habilitado para este login.")
	}
	doc, err := credit.ParseDocument(form.get("documento"))
	if err != nil {
		return rejected("Documento inválido.")
	}
	switch form.get("tipodocumento") {
	case "F":
		if doc.Kind() != credit.CPF {
			return rejected("Tipo de documento F exige um CPF.")
		}
		if !knownUF(form.get("uf")) {
			return rejected("UF obrigatória para consulta de CPF.")
		}
	case "J":
		if doc.Kind() != credit.CNPJ {
			return rejected("Tipo de documento J exige um CNPJ.")
		}
	default:
		return rejected("Tipo de documento inválido: informe F ou J.")
	}
	static := form.get("estatica")
	if static != "S" && static != "N" {
		return rejected("Parâmetro estatica inválido: informe S ou N.")
	}
	switch b := behaviourOf(doc); b {
	case consultRejected:
		return rejected(MessageConsultRejected)
	case answerTimeout, answerServerError, answerOversized:
		return outcome{scenario: b}
	}
	data := dataOf(doc)
	answer := consultAnswer{
		Status: newStatus(codeOK, "Consulta realizada com sucesso.", s.protocol()),
		Input:  consultInput{Name: data.name, Document: doc.Formatted(), Product: product, Static: static},
		Result: data.result(doc, product != "INDICADOR_NEGATIVOS"),
	}
	return outcome{body: answer, scenario: behaviourOf(doc)}
}

// result shapes the data as the consultation answer; full adds the score and
// the earlier consultations, which the negatives indicator lacks.
func (r reportData) result(doc credit.Document, full bool) *consultResult {
	res := &consultResult{Identity: identity{Name: r.name, DocumentStatus: r.status, MotherName: r.motherName}}
	if doc.Kind() == credit.CPF {
		res.Identity.BirthDate = r.born.Format(wireDate)
	} else {
		res.Identity.FoundationDate = r.born.Format(wireDate)
	}
	var all []credit.Cents
	res.Pendencies = wireSection(r.pendencies, func(p pendencyData) (pendency, time.Time, credit.Cents) {
		return pendency{Kind: p.kind, Date: p.date.Format(wireDate), Modality: p.modality, Amount: p.amount.BRL(), Contract: p.contract, Origin: p.origin}, p.date, p.amount
	}, &all)
	res.Protests = wireSection(r.protests, func(p protestData) (protest, time.Time, credit.Cents) {
		return protest{Date: p.date.Format(wireDate), Amount: p.amount.BRL(), Notary: p.notary, City: p.city, UF: p.uf}, p.date, p.amount
	}, &all)
	res.BadCheques = wireSection(r.badCheques, func(b badChequeData) (badCheque, time.Time, credit.Cents) {
		return badCheque{Date: b.date.Format(wireDate), Bank: b.bank, Agency: b.agency, Quantity: b.quantity, Amount: b.amount.BRL(), City: b.city, UF: b.uf}, b.date, b.amount
	}, &all)
	res.Lawsuits = wireSection(r.lawsuits, func(l lawsuitData) (lawsuit, time.Time, credit.Cents) {
		return lawsuit{Date: l.date.Format(wireDate), Nature: l.nature, Amount: l.amount.BRL(), Court: l.court, City: l.city, UF: l.uf}, l.date, l.amount
	}, &all)
	res.Bankruptcies = wireSection(r.bankruptcies, func(b bankruptcyData) (bankruptcy, time.Time, credit.Cents) {
		return bankruptcy{Date: b.date.Format(wireDate), Kind: b.kind, Court: b.court, City: b.city, UF: b.uf}, b.date, 0
	}, &all)
	var total credit.Cents
	for _, c := range all {
		total += c
	}
	res.Summary = summary{Occurrences: len(all), Total: total.BRL()}
	if full {
		points := r.scorePoints
		probability := credit.BasisPoints((credit.MaxScore - points) * 9)
		res.Score = &score{
			Points:             points,
			Class:              scoreClass(points),
			DefaultProbability: probability.Percent(),
			Message:            "Probabilidade de inadimplência de " + probability.Percent() + " nos próximos 12 meses.",
		}
		res.PreviousConsultations = &previous{Last15: r.previous[0], Last30: r.previous[1], Last60: r.previous[2], Last90: r.previous[3], Entries: []previousEntry{}}
		for i := 0; i < r.previous[3]; i++ {
			// Dates fixed like the rest of the report: the counts are what a
			// real answer would compute from them.
			res.PreviousConsultations.Entries = append(res.PreviousConsultations.Entries, previousEntry{
				Date: anchor.AddDate(0, 0, -10*i).Format(wireDate), Company: consultants[i%len(consultants)],
			})
		}
	}
	return res
}

func wireSection[D, E any](data []D, conv func(D) (E, time.Time, credit.Cents), all *[]credit.Cents) section[E] {
	sec := section[E]{Entries: []E{}}
	var total credit.Cents
	var oldest, newest time.Time
	for _, d := range data {
		e, date, amount := conv(d)
		sec.Entries = append(sec.Entries, e)
		total += amount
		*all = append(*all, amount)
		if oldest.IsZero() || date.Before(oldest) {
			oldest = date
		}
		if date.After(newest) {
			newest = date
		}
	}
	sec.Count = len(data)
	sec.Total = total.BRL()
	if !oldest.IsZero() {
		sec.Oldest, sec.Newest = oldest.Format(wireDate), newest.Format(wireDate)
	}
	return sec
}

func scoreClass(points int) string {
	switch {
	case points >= 800:
		return "A"
	case points >= 600:
		return "B"
	case points >= 400:
		return "C"
	case points >= 200:
		return "D"
	}
	return "E"
}

func knownUF(uf string) bool {
	switch uf {
	case "AC", "AL", "AP", "AM", "BA", "CE", "DF", "ES", "GO", "MA", "MT", "MS", "MG", "PA",
		"PB", "PR", "PE", "PI", "RJ", "RN", "RS", "RO", "RR", "SC", "SP", "SE", "TO":
		return true
	}
	return false
}
