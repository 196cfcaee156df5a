package sandbox

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"creditanalysis/shared/credit"
)

// brasilia is the bureau's clock: UTC-3, no daylight saving since 2019.
var brasilia = time.FixedZone("BRT", -3*60*60)

// record is a negativation at the bureau. It turns from pending into its
// outcome once ActivationDelay has passed, when it is next read.
type record struct {
	reference, protocol string
	situation, message  string
	created, updated    time.Time
	outcome, outcomeMsg string
}

func (r *record) resolve(now time.Time, delay time.Duration) {
	if r.situation == situationPending && !now.Before(r.created.Add(delay)) {
		r.situation, r.message = r.outcome, r.outcomeMsg
		r.updated = r.created.Add(delay)
	}
}

func (r *record) wire() wireRecord {
	return wireRecord{Reference: r.reference, Protocol: r.protocol, Situation: r.situation, Message: r.message, UpdatedAt: r.updated.In(brasilia).Format(wireTime)}
}

// Widths of the inclusion layout, in characters.
const (
	maxName         = 70
	maxStreet       = 45
	maxNumber       = 10
	maxComplement   = 20
	maxNeighborhood = 20
	maxCity         = 25
	maxContract     = 30
)

func (s *Server) include(form formValues, now time.Time) outcome {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, st := s.login(form, kindPEFIN, "senhapefin")
	if st != nil {
		return outcome{body: statusOnly{*st}}
	}
	ref := form.get("referencia")
	if !credit.ValidBureauReference(ref) {
		return rejected("Referência inválida: de 1 a 64 letras, dígitos, - ou _.")
	}
	if r, ok := a.records[ref]; ok {
		// The reference is the idempotency key: a repeated inclusion answers
		// the record it already made, whatever the rest of the request says.
		r.resolve(now, s.cfg.ActivationDelay)
		return outcome{body: recordAnswer{Status: newStatus(codeOK, "Registro já existente para esta referência.", r.protocol), Record: r.wire()}}
	}
	doc, problems := validateInclusion(form, now)
	if len(problems) > 0 {
		return rejected("Inclusão recusada: " + strings.Join(problems, "; ") + ".")
	}
	b := behaviourOf(doc)
	switch b {
	case inclusionRefused:
		return rejected(MessageInclusionRefused)
	case answerServerError:
		return outcome{scenario: b}
	}
	r := &record{
		reference: ref, protocol: s.protocol(), situation: situationPending,
		message: "Inclusão recebida; aguardando envio da carta comunicado.",
		created: now, updated: now, outcome: situationActive, outcomeMsg: "Registro ativo.",
	}
	if b == statusRejected {
		r.outcome, r.outcomeMsg = situationRejected, MessageStatusRejected
	}
	a.records[ref] = r
	out := outcome{body: recordAnswer{Status: newStatus(codeOK, "Inclusão recebida.", r.protocol), Record: r.wire()}}
	if b == answerTimeout || b == answerMalformed {
		out.scenario = b // the record exists; only the answer is lost or broken
	}
	return out
}

// validateInclusion checks the inclusion the way the partner's layout
// would, naming every problem.
func validateInclusion(form formValues, now time.Time) (credit.Document, []string) {
	var p []string
	text := func(field, label string, min, max int) {
		n := utf8.RuneCountInString(strings.TrimSpace(form.get(field)))
		if n < min {
			p = append(p, label+" obrigatório")
		} else if n > max {
			p = append(p, label+" com mais de "+strconv.Itoa(max)+" caracteres")
		}
	}
	doc, err := credit.ParseDocument(form.get("documento"))
	if err != nil {
		p = append(p, "documento do devedor inválido")
	} else if (form.get("tipodocumento") == "F") != (doc.Kind() == credit.CPF) || !(form.get("tipodocumento") == "F" || form.get("tipodocumento") == "J") {
		p = append(p, "tipo de documento não confere com o documento")
	}
	if r, err := credit.ParseDocument(form.get("cpfresponsavel")); err != nil || r.Kind() != credit.CPF {
		p = append(p, "CPF do responsável inválido")
	}
	text("nome", "nome", 1, maxName)
	text("logradouro", "logradouro", 1, maxStreet)
	text("numero", "número", 1, maxNumber)
	text("complemento", "complemento", 0, maxComplement)
	text("bairro", "bairro", 1, maxNeighborhood)
	text("cidade", "cidade", 1, maxCity)
	text("contrato", "contrato", 0, maxContract)
	text("numerodocumento", "número do documento", 0, maxContract)
	if !knownUF(form.get("uf")) {
		p = append(p, "UF inválida")
	}
	if cep := form.get("cep"); len(cep) != 8 || !digitsOnly(cep) {
		p = append(p, "CEP deve ter 8 dígitos")
	}
	switch form.get("sexo") {
	case "F", "M", "O", "":
	default:
		p = append(p, "sexo inválido")
	}
	sms := form.get("enviasms")
	if sms != "S" && sms != "N" {
		p = append(p, "enviasms deve ser S ou N")
	}
	if phone := form.get("telefone"); phone != "" && (len(phone) < 10 || len(phone) > 11 || !digitsOnly(phone)) {
		p = append(p, "telefone inválido")
	} else if phone == "" && sms == "S" {
		p = append(p, "telefone obrigatório para envio de SMS")
	}
	today := dayOf(now)
	if err == nil && doc.Kind() == credit.CPF {
		born, berr := time.Parse(wireDate, form.get("datanascimento"))
		switch {
		case berr != nil:
			p = append(p, "data de nascimento inválida")
		case born.AddDate(18, 0, 0).After(today):
			p = append(p, "devedor menor de idade")
		}
	}
	if !knownCode(restrictionCodes, form.get("codigorestricao")) {
		p = append(p, "código de restrição desconhecido")
	}
	due, derr := time.Parse(wireDate, form.get("datavencimento"))
	switch {
	case derr != nil:
		p = append(p, "data de vencimento inválida")
	case !due.Before(today):
		p = append(p, "débito ainda não vencido")
	case due.Before(today.AddDate(-5, 0, 0)):
		p = append(p, "débito vencido há mais de 5 anos")
	}
	if v, err := credit.ParseBRL(form.get("valor")); err != nil || v <= 0 {
		p = append(p, "valor inválido")
	}
	return doc, p
}

func (s *Server) remove(form formValues, now time.Time) outcome {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, st := s.login(form, kindPEFIN, "senhapefin")
	if st != nil {
		return outcome{body: statusOnly{*st}}
	}
	ref := form.get("referencia")
	if !knownCode(removalCodes, form.get("codigobaixa")) {
		return rejected("Código de baixa desconhecido.")
	}
	date, err := time.Parse(wireDate, form.get("databaixa"))
	if err != nil || date.After(dayOf(now)) {
		return rejected("Data da baixa inválida.")
	}
	r, ok := a.records[ref]
	if !ok {
		return outcome{body: statusOnly{newStatus(codeNotFound, "Registro não encontrado para a referência informada.", "")}}
	}
	r.resolve(now, s.cfg.ActivationDelay)
	switch r.situation {
	case situationPending, situationActive:
		r.situation, r.message, r.updated = situationRemoved, "Baixa efetuada (código "+form.get("codigobaixa")+").", now
	case situationRejected:
		return rejected("Registro rejeitado não pode ser baixado.")
	}
	// A removed record answers success again, so that a retry is harmless.
	return outcome{body: recordAnswer{Status: newStatus(codeOK, "Baixa efetuada.", r.protocol), Record: r.wire()}}
}

// MaxStatusReferences bounds the references of one status call.
const MaxStatusReferences = 100

func (s *Server) status(form formValues, now time.Time) outcome {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, st := s.login(form, kindPEFIN, "senhapefin")
	if st != nil {
		return outcome{body: statusOnly{*st}}
	}
	refs := form["referencia"]
	if len(refs) == 0 || len(refs) > MaxStatusReferences {
		return rejected("Informe de 1 a 100 referências.")
	}
	answer := recordsAnswer{Status: newStatus(codeOK, "Situação dos registros.", ""), Records: []wireRecord{}}
	for _, ref := range refs {
		if r, ok := a.records[ref]; ok {
			r.resolve(now, s.cfg.ActivationDelay)
			answer.Records = append(answer.Records, r.wire())
		}
	}
	return outcome{body: answer}
}

func dayOf(t time.Time) time.Time {
	t = t.In(brasilia)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

func digitsOnly(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
