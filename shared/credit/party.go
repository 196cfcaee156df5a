package credit

import (
	"context"
	"slices"
	"strings"
	"time"
)

// PartyKind is who can be consulted: a customer (Cliente), a lead or a
// prospect (Prospecção).
type PartyKind string

const (
	PartyCustomer PartyKind = "customer"
	PartyLead     PartyKind = "lead"
	PartyProspect PartyKind = "prospect"
)

// PartyKindFromPath reads the plural used in paths (customers, leads,
// prospects).
func PartyKindFromPath(s string) (PartyKind, bool) {
	switch s {
	case "customers":
		return PartyCustomer, true
	case "leads":
		return PartyLead, true
	case "prospects":
		return PartyProspect, true
	}
	return "", false
}

// Valid reports whether k is a known kind.
func (k PartyKind) Valid() bool {
	return k == PartyCustomer || k == PartyLead || k == PartyProspect
}

// Gender as the ERP registers it; the bureau requires it for negativation.
type Gender string

const (
	GenderFemale Gender = "female"
	GenderMale   Gender = "male"
	GenderOther  Gender = "other"
)

// AutoNegativation is a customer's own setting for the billing rule:
// "default" follows the integration, "yes"/"no" override it.
type AutoNegativation string

const (
	AutoNegativationDefault AutoNegativation = "default"
	AutoNegativationYes     AutoNegativation = "yes"
	AutoNegativationNo      AutoNegativation = "no"
)

// Address is a Brazilian postal address.
type Address struct {
	CEP          string
	Street       string
	Number       string
	Complement   string
	Neighborhood string
	City         string
	UF           string
}

// Party is a customer, lead or prospect as the ERP pushes it. Only BranchID,
// Document and Name are required to store it; negativation checks the rest.
type Party struct {
	Kind             PartyKind
	ID               string
	BranchID         string
	Document         Document
	Name             string
	Gender           Gender
	BirthDate        Date
	MobilePhone      string
	Address          Address
	AutoNegativation AutoNegativation
	CreatedAt        time.Time
	UpdatedAt        time.Time
	UpdatedBy        Actor
}

// UFs are the 27 federative units.
var UFs = []string{"AC", "AL", "AP", "AM", "BA", "CE", "DF", "ES", "GO", "MA", "MT", "MS", "MG", "PA",
	"PB", "PR", "PE", "PI", "RJ", "RN", "RS", "RO", "RR", "SC", "SP", "SE", "TO"}

// ValidUF reports whether uf is one of the 27 federative units (upper case).
func ValidUF(uf string) bool { return slices.Contains(UFs, uf) }

// ValidBranchID reports whether id can name a branch (filial).
func ValidBranchID(id string) bool { return ValidIdentifier(id) }

// ValidIdentifier reports whether id is 1 to 64 ASCII letters, digits,
// "_", "." or "-", starting with a letter or digit: how branches, parties
// and records are named. (Checked by hand, not by a regular expression
// compiled at every cold start.)
func ValidIdentifier(id string) bool {
	if len(id) < 1 || len(id) > 64 || !isAlnum(id[0]) {
		return false
	}
	for i := 1; i < len(id); i++ {
		if c := id[i]; !isAlnum(c) && c != '_' && c != '.' && c != '-' {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return isDigit(c) || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// validCEP: 8 digits.
func validCEP(s string) bool { return len(s) == 8 && allDigits(s) }

// validMobile: a Brazilian mobile number, area code and 9 digits starting
// with 9 (11 digits; neither area digit is 0).
func validMobile(s string) bool {
	return len(s) == 11 && allDigits(s) && s[0] != '0' && s[1] != '0' && s[2] == '9'
}

// digitsOnly strips the punctuation people type in phones and CEPs.
func digitsOnly(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-', '.', '(', ')', '+':
			return -1
		}
		return r
	}, s)
}

// PartyInput is what the ERP sends for a party.
type PartyInput struct {
	BranchID         string
	Document         string
	Name             string
	Gender           string
	BirthDate        string
	MobilePhone      string
	Address          Address
	AutoNegativation string
}

// Validate checks the input and returns the party it describes (without
// kind, id and timestamps), naming every bad field.
func (in PartyInput) Validate() (Party, error) {
	var fe FieldErrors
	p := Party{BranchID: in.BranchID, Name: strings.TrimSpace(in.Name), Gender: Gender(in.Gender)}
	if !ValidBranchID(in.BranchID) {
		fe.Add("branchId", "obrigatório; letras, números, ponto, hífen ou sublinhado, até 64 caracteres")
	}
	if doc, err := ParseDocument(in.Document); err != nil {
		fe.Add("document", "CPF/CNPJ inválido")
	} else {
		p.Document = doc
	}
	if p.Name == "" || len(p.Name) > 150 {
		fe.Add("name", "obrigatório, até 150 caracteres")
	}
	switch p.Gender {
	case "", GenderFemale, GenderMale, GenderOther:
	default:
		fe.Add("gender", `deve ser "female", "male" ou "other"`)
	}
	if in.BirthDate != "" {
		d, err := ParseDate(in.BirthDate)
		if err != nil {
			fe.Add("birthDate", "deve ser uma data AAAA-MM-DD")
		}
		p.BirthDate = d
	}
	if in.MobilePhone != "" {
		p.MobilePhone = digitsOnly(in.MobilePhone)
		if !validMobile(p.MobilePhone) {
			fe.Add("mobilePhone", "celular com DDD: 11 dígitos, começando pelo DDD e o 9")
		}
	}
	a := in.Address
	a.CEP = digitsOnly(a.CEP)
	a.UF = strings.ToUpper(strings.TrimSpace(a.UF))
	if a.CEP != "" && !validCEP(a.CEP) {
		fe.Add("address.cep", "CEP com 8 dígitos")
	}
	if a.UF != "" && !ValidUF(a.UF) {
		fe.Add("address.uf", "UF inválida")
	}
	for field, v := range map[string]string{"address.street": a.Street, "address.number": a.Number, "address.complement": a.Complement, "address.neighborhood": a.Neighborhood, "address.city": a.City} {
		if len(v) > 100 {
			fe.Add(field, "até 100 caracteres")
		}
	}
	p.Address = a
	switch AutoNegativation(in.AutoNegativation) {
	case "":
		p.AutoNegativation = AutoNegativationDefault
	case AutoNegativationDefault, AutoNegativationYes, AutoNegativationNo:
		p.AutoNegativation = AutoNegativation(in.AutoNegativation)
	default:
		fe.Add("autoNegativation", `deve ser "default", "yes" ou "no"`)
	}
	if p.Document.IsZero() {
		// The document is what every later step keys on: name its own code,
		// still listing every bad field.
		return p, fe.As(KindInvalid, CodeInvalidDocument, "CPF/CNPJ inválido")
	}
	return p, fe.Err()
}

// RequiredForNegativation lists, with their Portuguese labels, the customer
// fields the reference requires before a negativation, in its order.
var RequiredForNegativation = []struct{ Field, Label string }{
	{"document", "CNPJ/CPF"},
	{"name", "Razão social/Nome"},
	{"gender", "Gênero"},
	{"birthDate", "Data de nascimento"},
	{"mobilePhone", "Telefone celular"},
	{"address.cep", "CEP"},
	{"address.street", "Endereço"},
	{"address.complement", "Complemento"},
	{"address.neighborhood", "Bairro"},
	{"address.city", "Cidade"},
	{"address.uf", "UF"},
	{"address.number", "Número"},
}

// MissingForNegativation names the required fields p lacks, in the
// reference's order, with their labels.
func (p Party) MissingForNegativation() (fields, labels []string) {
	have := map[string]bool{
		"document": !p.Document.IsZero(), "name": p.Name != "", "gender": p.Gender != "",
		"birthDate": !p.BirthDate.IsZero(), "mobilePhone": p.MobilePhone != "",
		"address.cep": p.Address.CEP != "", "address.street": strings.TrimSpace(p.Address.Street) != "",
		"address.complement": strings.TrimSpace(p.Address.Complement) != "", "address.neighborhood": strings.TrimSpace(p.Address.Neighborhood) != "",
		"address.city": strings.TrimSpace(p.Address.City) != "", "address.uf": p.Address.UF != "",
		"address.number": strings.TrimSpace(p.Address.Number) != "",
	}
	for _, r := range RequiredForNegativation {
		if !have[r.Field] {
			fields = append(fields, r.Field)
			labels = append(labels, r.Label)
		}
	}
	return fields, labels
}

// InvoiceStatus is an invoice's state in the ERP.
type InvoiceStatus string

const (
	InvoiceOpen      InvoiceStatus = "open"
	InvoicePaid      InvoiceStatus = "paid"
	InvoiceCancelled InvoiceStatus = "cancelled"
)

// Invoice is an amount a customer owes with a due date (boleto/fatura); a
// negativation is for one overdue invoice.
type Invoice struct {
	CustomerID     string
	ID             string
	BranchID       string
	AmountCents    Cents
	DueDate        Date
	Status         InvoiceStatus
	PaidAt         Date
	ContractNumber string
	DocumentNumber string
	// SettledOn is when the invoice stopped being owed (paid or cancelled):
	// PaidAt when given, else the day the change arrived. It dates the
	// 5-business-day removal duty (STJ Súmula 548).
	SettledOn Date
	UpdatedAt time.Time
	UpdatedBy Actor
}

// InvoiceInput is what the ERP sends for an invoice.
type InvoiceInput struct {
	AmountCents    *int64
	DueDate        string
	Status         string
	PaidAt         string
	ContractNumber string
	DocumentNumber string
}

// Validate checks the input, naming every bad field.
func (in InvoiceInput) Validate() (Invoice, error) {
	var fe FieldErrors
	inv := Invoice{Status: InvoiceStatus(in.Status), ContractNumber: in.ContractNumber, DocumentNumber: in.DocumentNumber}
	if in.AmountCents == nil || *in.AmountCents < 0 || *in.AmountCents > 1_000_000_000_00 {
		fe.Add("amountCents", "obrigatório: inteiro em centavos, entre 0 e 100000000000")
	} else {
		inv.AmountCents = Cents(*in.AmountCents)
	}
	if d, err := ParseDate(in.DueDate); err != nil {
		fe.Add("dueDate", "obrigatória: data AAAA-MM-DD")
	} else {
		inv.DueDate = d
	}
	switch inv.Status {
	case InvoiceOpen, InvoicePaid, InvoiceCancelled:
	default:
		fe.Add("status", `deve ser "open", "paid" ou "cancelled"`)
	}
	if in.PaidAt != "" {
		d, err := ParseDate(in.PaidAt)
		if err != nil {
			fe.Add("paidAt", "deve ser uma data AAAA-MM-DD")
		} else if inv.Status != InvoicePaid {
			fe.Add("paidAt", `só se aplica a faturas com status "paid"`)
		}
		inv.PaidAt = d
	}
	if len(in.ContractNumber) > 50 {
		fe.Add("contractNumber", "até 50 caracteres")
	}
	if len(in.DocumentNumber) > 50 {
		fe.Add("documentNumber", "até 50 caracteres")
	}
	return inv, fe.Err()
}

// PartyStore keeps parties and customers' invoices.
//
//   - PutParty creates or replaces a party; created tells which.
//   - GetParty, GetInvoice: not_found (404).
//   - PutInvoice: not_found when the customer does not exist (checked in
//     the same write).
//   - ListInvoices: invalid_cursor.
//   - ErasePartyData removes the party record, its invoices and every copy
//     kept under it, and records e last, so that a failure midway leaves
//     the party readable and the erasure can run again. Erasing a party
//     already gone only records e.
//   - GetPartyErasure reads the record ErasePartyData wrote: not_found
//     (404) when the party was never erased.
type PartyStore interface {
	PutParty(ctx context.Context, p Party) (created bool, err error)
	GetParty(ctx context.Context, kind PartyKind, id string) (Party, error)
	PutInvoice(ctx context.Context, inv Invoice) error
	GetInvoice(ctx context.Context, customerID, invoiceID string) (Invoice, error)
	ListInvoices(ctx context.Context, customerID string, p Page) ([]Invoice, string, error)
	ErasePartyData(ctx context.Context, e PartyErasure) error
	GetPartyErasure(ctx context.Context, kind PartyKind, id string) (PartyErasure, error)
}

// PartyService stores what the ERP pushes.
type PartyService struct {
	Store PartyStore
	Now   Clock
}

// Put creates or replaces a party.
func (s *PartyService) Put(ctx context.Context, kind PartyKind, id string, in PartyInput) (Party, bool, error) {
	p, err := in.Validate()
	if err != nil {
		return Party{}, false, err
	}
	p.Kind, p.ID = kind, id
	if err := AllowBranch(ctx, p.BranchID); err != nil {
		return Party{}, false, err
	}
	now := s.Now.Now()
	p.CreatedAt, p.UpdatedAt = now, now
	p.UpdatedBy, _ = ActorFrom(ctx)
	if old, err := s.Store.GetParty(ctx, kind, id); err == nil {
		// Moving a party off a branch is acting on that branch too.
		if err := AllowBranch(ctx, old.BranchID); err != nil {
			return Party{}, false, err
		}
		p.CreatedAt = old.CreatedAt
	} else if ErrorKind(err) != KindNotFound {
		return Party{}, false, err
	}
	created, err := s.Store.PutParty(ctx, p)
	return p, created, err
}

// Get returns a party the caller may see: one of another branch is
// not_found.
func (s *PartyService) Get(ctx context.Context, kind PartyKind, id string) (Party, error) {
	p, err := s.Store.GetParty(ctx, kind, id)
	if err != nil {
		return Party{}, err
	}
	if err := seeBranch(ctx, p.BranchID, "Cadastro"); err != nil {
		return Party{}, err
	}
	return p, nil
}

// PutInvoice creates or replaces a customer's invoice. Paying it does not
// touch its negativation (rule 9): removal stays a separate act.
func (s *PartyService) PutInvoice(ctx context.Context, customerID, invoiceID string, in InvoiceInput) (Invoice, error) {
	inv, err := in.Validate()
	if err != nil {
		return Invoice{}, err
	}
	customer, err := s.Store.GetParty(ctx, PartyCustomer, customerID)
	if err != nil {
		return Invoice{}, err
	}
	if err := AllowBranch(ctx, customer.BranchID); err != nil {
		return Invoice{}, err
	}
	inv.CustomerID, inv.ID, inv.BranchID = customerID, invoiceID, customer.BranchID
	inv.UpdatedAt = s.Now.Now()
	inv.UpdatedBy, _ = ActorFrom(ctx)
	if inv.Status != InvoiceOpen {
		inv.SettledOn = inv.PaidAt
		if inv.SettledOn.IsZero() {
			inv.SettledOn = DateOf(inv.UpdatedAt, SaoPaulo())
			if old, err := s.Store.GetInvoice(ctx, customerID, invoiceID); err == nil && old.Status == inv.Status && !old.SettledOn.IsZero() {
				inv.SettledOn = old.SettledOn
			}
		}
	}
	if err := s.Store.PutInvoice(ctx, inv); err != nil {
		return Invoice{}, err
	}
	return inv, nil
}

func (s *PartyService) ListInvoices(ctx context.Context, customerID string, p Page) ([]Invoice, string, error) {
	if err := visibleParty(ctx, s.Store, PartyRef{Kind: PartyCustomer, ID: customerID}); err != nil {
		return nil, "", err
	}
	return s.Store.ListInvoices(ctx, customerID, p.Normalized())
}
