package credit

import (
	"strings"
	"time"
)

// This file is what the services ask the bureau's ports, each request
// with the structural checks the bureau's layouts impose; the ports, their
// errors and their answers are in bureau.go.

// ConsultQuery is what a consultation asks the bureau.
type ConsultQuery struct {
	Document Document
	// Plan must be consultable (not PlanAll).
	Plan Plan
	// UF is the state where the person lives; the bureau requires it for a
	// CPF. CEP and Phone are optional and refine the search.
	UF    string
	CEP   string
	Phone string
}

// Validate checks what the bureau cannot do without.
func (q ConsultQuery) Validate() error {
	var fe FieldErrors
	if q.Document.IsZero() {
		fe.Add("document", "obrigatório")
	}
	if !q.Plan.Consultable() {
		fe.Add("plan", "deve ser um plano de consulta")
	}
	if q.UF != "" && !bureauKnownUF(q.UF) {
		fe.Add("uf", "UF inválida")
	} else if q.UF == "" && q.Document.Kind() == CPF {
		fe.Add("uf", "obrigatória para CPF")
	}
	if q.CEP != "" && !(len(q.CEP) == 8 && allDigits(q.CEP)) {
		fe.Add("cep", "deve ter 8 dígitos")
	}
	if q.Phone != "" && !(len(q.Phone) >= 10 && len(q.Phone) <= 11 && allDigits(q.Phone)) {
		fe.Add("phone", "deve ter DDD e número, só dígitos")
	}
	return fe.Err()
}

// NegativationRequest is a debt to register with the bureau.
type NegativationRequest struct {
	// Reference is our own negativation id, sent as the partner's reference:
	// the idempotency key of the inclusion.
	Reference string
	// SendSMS asks the bureau to text the debtor's mobile phone.
	SendSMS bool
	// ResponsibleCPF is the person answerable for the negativation.
	ResponsibleCPF Document
	Debtor         Debtor
	Debt           Debt
}

// Debtor is the person or company a debt is registered against.
type Debtor struct {
	Document Document
	Name     string
	// BirthDate is required for a CPF (foundation date for a CNPJ, optional).
	BirthDate time.Time
	// Gender is "female", "male" or "other".
	Gender string
	// Phone is the mobile phone with area code, digits only.
	Phone   string
	Address DebtorAddress
}

// DebtorAddress is where the bureau mails its notice letter (carta
// comunicado) before the record becomes visible.
type DebtorAddress struct {
	Street       string
	Number       string
	Complement   string
	Neighborhood string
	City         string
	UF           string
	// CEP is 8 digits.
	CEP string
}

// Debt is the overdue amount registered.
type Debt struct {
	// RestrictionCode is one of Bureau.RestrictionCodes.
	RestrictionCode string
	Contract        string
	DocumentNumber  string
	DueDate         time.Time
	Amount          Cents
}

// MaxBureauReference bounds a reference's length on the wire.
const MaxBureauReference = 64

// Validate checks the request's structure; the domain checks the business
// rules (which customer fields are missing, debt age) before building it.
func (r NegativationRequest) Validate() error {
	var fe FieldErrors
	validReference(&fe, "reference", r.Reference)
	if r.ResponsibleCPF.IsZero() || r.ResponsibleCPF.Kind() != CPF {
		fe.Add("responsibleCpf", "deve ser um CPF")
	}
	d := r.Debtor
	if d.Document.IsZero() {
		fe.Add("debtor.document", "obrigatório")
	}
	if strings.TrimSpace(d.Name) == "" {
		fe.Add("debtor.name", "obrigatório")
	}
	if d.Document.Kind() == CPF && d.BirthDate.IsZero() {
		fe.Add("debtor.birthDate", "obrigatória para CPF")
	}
	switch d.Gender {
	case "female", "male", "other", "":
	default:
		fe.Add("debtor.gender", "deve ser female, male ou other")
	}
	if d.Phone != "" && !(len(d.Phone) >= 10 && len(d.Phone) <= 11 && allDigits(d.Phone)) {
		fe.Add("debtor.phone", "deve ter DDD e número, só dígitos")
	} else if d.Phone == "" && r.SendSMS {
		fe.Add("debtor.phone", "obrigatório para envio de SMS")
	}
	a := d.Address
	for _, f := range []struct{ name, value string }{
		{"debtor.address.street", a.Street}, {"debtor.address.number", a.Number},
		{"debtor.address.neighborhood", a.Neighborhood}, {"debtor.address.city", a.City},
	} {
		if strings.TrimSpace(f.value) == "" {
			fe.Add(f.name, "obrigatório")
		}
	}
	if !bureauKnownUF(a.UF) {
		fe.Add("debtor.address.uf", "UF inválida")
	}
	if !(len(a.CEP) == 8 && allDigits(a.CEP)) {
		fe.Add("debtor.address.cep", "deve ter 8 dígitos")
	}
	if strings.TrimSpace(r.Debt.RestrictionCode) == "" {
		fe.Add("debt.restrictionCode", "obrigatório")
	}
	if r.Debt.DueDate.IsZero() {
		fe.Add("debt.dueDate", "obrigatória")
	}
	if r.Debt.Amount <= 0 || r.Debt.Amount > MaxCents {
		fe.Add("debt.amount", "deve ser positivo")
	}
	return fe.Err()
}

// RemovalRequest takes a record off the bureau.
type RemovalRequest struct {
	// Reference is the one the record was included with.
	Reference string
	// RemovalCode is one of Bureau.RemovalCodes.
	RemovalCode string
	// Date is the day the debt stopped being owed (payment or agreement).
	Date time.Time
}

// Validate checks the request's structure.
func (r RemovalRequest) Validate() error {
	var fe FieldErrors
	validReference(&fe, "reference", r.Reference)
	if strings.TrimSpace(r.RemovalCode) == "" {
		fe.Add("removalCode", "obrigatório")
	}
	if r.Date.IsZero() {
		fe.Add("date", "obrigatória")
	}
	return fe.Err()
}

// ValidBureauReference reports whether s can be sent as a reference: 1 to
// MaxBureauReference characters among letters, digits, "-" and "_".
func ValidBureauReference(s string) bool {
	if s == "" || len(s) > MaxBureauReference {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9') && !(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

func validReference(fe *FieldErrors, field, s string) {
	if !ValidBureauReference(s) {
		fe.Add(field, "deve ter de 1 a 64 letras, dígitos, - ou _")
	}
}

// bureauKnownUF reports whether uf is one of the 27 federative units.
func bureauKnownUF(uf string) bool {
	switch uf {
	case "AC", "AL", "AP", "AM", "BA", "CE", "DF", "ES", "GO", "MA", "MT", "MS", "MG", "PA",
		"PB", "PR", "PE", "PI", "RJ", "RN", "RS", "RO", "RR", "SC", "SP", "SE", "TO":
		return true
	}
	return false
}
