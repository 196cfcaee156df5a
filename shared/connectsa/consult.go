package connectsa

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/url"
	"strings"
	"time"

	"creditanalysis/shared/credit"
)

// Consult buys a report (see credit.ConsultationBureau). In homologation it asks for the
// partner's static, non-charged simulation.
func (cl *Client) Consult(ctx context.Context, acct credit.BureauAccount, q credit.ConsultQuery) (credit.Report, error) {
	if err := q.Validate(); err != nil {
		return credit.Report{}, err
	}
	product := cl.cfg.ProductCodes[q.Plan]
	if product == "" {
		return credit.Report{}, credit.Internal(fmt.Errorf("no product code for plan %s", q.Plan), "connectsa")
	}
	kind := "F"
	if q.Document.Kind() == credit.CNPJ {
		kind = "J"
	}
	form := url.Values{
		"login":         {acct.Credentials.Login},
		"password":      {acct.Credentials.ConsultationPassword},
		"consulta":      {product},
		"tipodocumento": {kind},
		"documento":     {q.Document.Number()},
		"uf":            {q.UF},
		"cep":           {q.CEP},
		"telefone":      {q.Phone},
		"estatica":      {yesNo(acct.Environment != credit.EnvironmentProduction)},
		"tiporesposta":  {"json"},
	}
	var out consultAnswer
	raw, err := cl.do(ctx, acct, call{
		op: "consult", path: pathConsult, form: form, timeout: cl.cfg.ConsultTimeout,
		retry: retryIfNotSent, credential: credit.CredentialConsultation,
		logAttrs: []slog.Attr{slog.String("document", q.Document.Masked()), slog.String("plan", string(q.Plan))},
	}, &out)
	if errors.Is(err, errNotFound) {
		return credit.Report{}, credit.BureauMalformedAnswer(errors.New("consultation answered record not found"))
	}
	if err != nil {
		return credit.Report{}, err
	}
	return toReport(&out, raw, q.Document)
}

// parseConsultation turns a consultation answer into the report of doc; the
// fuzz target.
func parseConsultation(raw []byte, doc credit.Document) (credit.Report, error) {
	var out consultAnswer
	err := decode(raw, &out, credit.CredentialConsultation)
	if errors.Is(err, errNotFound) {
		return credit.Report{}, credit.BureauMalformedAnswer(errors.New("consultation answered record not found"))
	}
	if err != nil {
		return credit.Report{}, err
	}
	return toReport(&out, raw, doc)
}

// reportParser collects the first problem met while converting, so that the
// conversion reads straight.
type reportParser struct{ err error }

func (p *reportParser) fail(format string, args ...any) {
	if p.err == nil {
		p.err = fmt.Errorf(format, args...)
	}
}

func (p *reportParser) date(field, s string) time.Time {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(wireDate, s)
	if err != nil {
		p.fail("%s: bad date %q", field, truncate(s, 32))
	}
	return t
}

func (p *reportParser) money(field, s string) credit.Cents {
	c, err := credit.ParseBRL(s)
	if err != nil || c < 0 {
		p.fail("%s: bad amount %q", field, truncate(s, 32))
		return 0
	}
	return c
}

func (p *reportParser) count(field string, n *flexInt) (int, bool) {
	if n == nil {
		return 0, false
	}
	if *n < 0 || *n > math.MaxInt32 {
		p.fail("%s: bad count %d", field, *n)
		return 0, false
	}
	return int(*n), true
}

func toReport(out *consultAnswer, raw []byte, doc credit.Document) (credit.Report, error) {
	res := out.Result
	if res == nil {
		return credit.Report{}, credit.BureauMalformedAnswer(errors.New("answer without resultado"))
	}
	if got := out.Input.Document; got != "" {
		// A report about someone else must never be recorded as this one's.
		if n, err := credit.ParseDocument(got); err != nil || n.Number() != doc.Number() {
			return credit.Report{}, credit.BureauMalformedAnswer(fmt.Errorf("answer about document %s, asked %s", credit.MaskDocument(got), doc.Masked()))
		}
	}
	var p reportParser
	r := credit.Report{Protocol: strings.TrimSpace(string(out.Status.Protocol))}
	if r.Protocol == "" {
		p.fail("answer without status.protocolo")
	}
	r.Identity = credit.Identity{
		Name:           strings.TrimSpace(res.Identity.Name),
		BirthDate:      p.date("dataNascimento", res.Identity.BirthDate),
		FoundationDate: p.date("dataFundacao", res.Identity.FoundationDate),
		DocumentStatus: strings.TrimSpace(res.Identity.DocumentStatus),
		MotherName:     strings.TrimSpace(res.Identity.MotherName),
	}
	if r.Identity.Name == "" {
		r.Identity.Name = strings.TrimSpace(out.Input.Name)
	}
	if s := res.Score; s != nil {
		if s.Points == nil || *s.Points < 0 || *s.Points > credit.MaxScore {
			p.fail("score.pontuacao missing or outside 0..1000")
		} else {
			score := &credit.Score{Value: int(*s.Points), Class: strings.TrimSpace(s.Class), Message: strings.TrimSpace(s.Message)}
			if s.DefaultProbability != "" {
				bp, err := credit.ParsePercent(s.DefaultProbability)
				if err != nil {
					p.fail("score.probabilidadeInadimplencia: bad percent %q", truncate(s.DefaultProbability, 32))
				}
				score.DefaultProbability = bp
			}
			r.Score = score
		}
	}
	r.Pendencies = section(&p, "pendenciasFinanceiras", res.Pendencies, func(e wirePendency) credit.Pendency {
		kind := credit.PendencyKind(strings.ToUpper(strings.TrimSpace(e.Kind)))
		if kind != credit.PendencyPEFIN && kind != credit.PendencyREFIN {
			p.fail("pendenciasFinanceiras.tipo: unknown %q", truncate(e.Kind, 32))
		}
		return credit.Pendency{Kind: kind, Date: p.date("pendencia.data", e.Date), Modality: e.Modality, Amount: p.money("pendencia.valor", e.Amount), Contract: e.Contract, Origin: e.Origin}
	})
	r.Protests = section(&p, "protestos", res.Protests, func(e wireProtest) credit.Protest {
		return credit.Protest{Date: p.date("protesto.data", e.Date), Amount: p.money("protesto.valor", e.Amount), Notary: e.Notary, City: e.City, UF: e.UF}
	})
	r.BadCheques = section(&p, "chequesSemFundo", res.BadCheques, func(e wireBadCheque) credit.BadCheque {
		q, ok := p.count("cheque.quantidade", e.Quantity)
		if !ok {
			q = 1
		}
		var amount credit.Cents
		if e.Amount != "" {
			amount = p.money("cheque.valor", e.Amount)
		}
		return credit.BadCheque{Date: p.date("cheque.data", e.Date), Bank: string(e.Bank), Agency: string(e.Agency), Quantity: q, Amount: amount, City: e.City, UF: e.UF}
	})
	r.Lawsuits = section(&p, "acoesJudiciais", res.Lawsuits, func(e wireLawsuit) credit.Lawsuit {
		var amount credit.Cents
		if e.Amount != "" {
			amount = p.money("acao.valor", e.Amount)
		}
		return credit.Lawsuit{Date: p.date("acao.data", e.Date), Nature: e.Nature, Amount: amount, Court: e.Court, City: e.City, UF: e.UF}
	})
	r.Bankruptcies = section(&p, "falencias", res.Bankruptcies, func(e wireBankruptcy) credit.Bankruptcy {
		return credit.Bankruptcy{Date: p.date("falencia.data", e.Date), Kind: e.Kind, Court: e.Court, City: e.City, UF: e.UF}
	})
	r.PreviousConsultations.Entries = []credit.PreviousConsultation{}
	if prev := res.Previous; prev != nil {
		r.PreviousConsultations.Last15Days, _ = p.count("ultimos15Dias", prev.Last15)
		r.PreviousConsultations.Last30Days, _ = p.count("ultimos30Dias", prev.Last30)
		r.PreviousConsultations.Last60Days, _ = p.count("ultimos60Dias", prev.Last60)
		r.PreviousConsultations.Last90Days, _ = p.count("ultimos90Dias", prev.Last90)
		for _, e := range prev.Entries {
			r.PreviousConsultations.Entries = append(r.PreviousConsultations.Entries, credit.PreviousConsultation{Date: p.date("consulta.data", e.Date), Company: e.Company})
		}
	}
	counted := r.Pendencies.Summary.Count + r.Protests.Summary.Count + r.BadCheques.Summary.Count + r.Lawsuits.Summary.Count + r.Bankruptcies.Summary.Count
	r.Occurrences = counted
	if res.Summary != nil {
		if n, ok := p.count("quantidadeTotalOcorrencias", res.Summary.Occurrences); ok {
			r.Occurrences = n
		}
	}
	if p.err != nil {
		return credit.Report{}, credit.BureauMalformedAnswer(p.err)
	}
	r.Raw = json.RawMessage(append([]byte(nil), raw...))
	return r, nil
}

// section converts one block: its entries, and the partner's count and total
// when given (they may exceed the entries listed), else computed.
func section[W any, E credit.Entry](p *reportParser, name string, w *wireSection[W], conv func(W) E) credit.Section[E] {
	if w == nil {
		return credit.NewSection[E](nil)
	}
	entries := make([]E, 0, len(w.Entries))
	var sum credit.Cents
	for _, e := range w.Entries {
		entry := conv(e)
		if sum > math.MaxInt64-entry.EntryAmount() {
			p.fail("%s: total overflows", name)
			break
		}
		sum += entry.EntryAmount()
		entries = append(entries, entry)
	}
	s := credit.Section[E]{Summary: credit.Summarize(entries), Entries: entries}
	if n, ok := p.count(name+".quantidadeOcorrencias", w.Count); ok {
		if n < len(entries) {
			p.fail("%s: count %d below the %d entries listed", name, n, len(entries))
		}
		s.Summary.Count = n
	}
	if strings.TrimSpace(w.Total) != "" {
		s.Summary.Total = p.money(name+".valorTotal", w.Total)
	}
	if o := p.date(name+".dataMaisAntiga", w.Oldest); !o.IsZero() {
		s.Summary.Oldest = o
	}
	if n := p.date(name+".dataMaisRecente", w.Newest); !n.IsZero() {
		s.Summary.Newest = n
	}
	return s
}
