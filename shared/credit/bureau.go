package credit

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"
)

// The credit bureau partner (Connect SA, reseller of Serasa Experian / SPC
// Brasil), seen from the domain, is three ports, one per role: consultation,
// the PEFIN registry and the account's administration. Every call names the
// account it acts for, environment and credentials, explicitly: nothing is
// cached between calls, so a password change takes effect on the next call.
// The services never call them with credentials of their own making, except
// the password change: they go through BureauAccess, which reads the
// integration's credentials and recovers when the bureau refuses them.
//
// Errors (*Error codes), for every method unless said otherwise:
//   - validation_failed (400): the request is incomplete or malformed; nothing
//     was sent;
//   - bureau_unavailable (502): the bureau did not answer in time, answered
//     5xx or could not be reached. For Consult and the password changes the
//     request may have reached the bureau: find out before repeating it
//     (CheckCredentials tells which password the bureau holds);
//   - bureau_bad_credentials (422): the bureau refused the login or the
//     password the call needs (Details["credential"] says which);
//   - bureau_rejected (422): the bureau refused the operation; its message is
//     in Message and in Details["bureauMessage"];
//   - bureau_malformed_answer (502): the answer could not be understood
//     (wrong types, truncated, too large);
//   - bureau_record_not_found (404): Remove only, for a reference the bureau
//     never received.

// ConsultationBureau sells credit reports; its calls need the account's
// consultation password.
type ConsultationBureau interface {
	// Consult buys a credit report of q.Document with q.Plan. It is charged
	// in production: a failed call is never repeated unless the request
	// provably never left.
	Consult(ctx context.Context, acct BureauAccount, q ConsultQuery) (Report, error)
	// Plans lists the plans the account may consult, with the bureau's
	// product codes and names.
	Plans(ctx context.Context, acct BureauAccount) ([]BureauPlan, error)
}

// PEFINRegistry registers debts with the bureau (negativação) and takes
// them off; its calls need the account's PEFIN password.
type PEFINRegistry interface {
	// Include registers a debt. The request's Reference is the idempotency
	// key: including the same reference again returns the record already
	// registered, whatever its state, and never registers the debt twice. A
	// new record starts pending.
	Include(ctx context.Context, acct BureauAccount, r NegativationRequest) (BureauRecord, error)
	// Remove takes a pending or active record off (baixa). Removing a removed
	// record succeeds again, so that a retry is safe; a rejected record
	// cannot be removed (bureau_rejected).
	Remove(ctx context.Context, acct BureauAccount, r RemovalRequest) error
	// Status reads the records sent earlier, in the order of references.
	// References the bureau does not know are absent from the answer, never
	// an error, so that one stray reference cannot block a whole sync.
	Status(ctx context.Context, acct BureauAccount, references []string) ([]BureauRecord, error)
	// RestrictionCodes lists the bureau's codes for the kind of debt
	// (código de restrição), offered on inclusion.
	RestrictionCodes(ctx context.Context, acct BureauAccount) ([]BureauCode, error)
	// RemovalCodes lists the bureau's reasons for a removal (código de baixa).
	RemovalCodes(ctx context.Context, acct BureauAccount) ([]BureauCode, error)
}

// BureauAccounts administers the account's two passwords.
type BureauAccounts interface {
	// ChangeConsultationPassword replaces the consultation password held in
	// acct with newPassword. The bureau refuses (bureau_rejected) a password
	// outside its rules or used before by the account.
	ChangeConsultationPassword(ctx context.Context, acct BureauAccount, newPassword string) error
	// ChangePEFINPassword is ChangeConsultationPassword for the PEFIN password.
	ChangePEFINPassword(ctx context.Context, acct BureauAccount, newPassword string) error
	// CheckCredentials asks the bureau, without any charge, which of the
	// account's passwords it accepts right now. Refused passwords are false
	// flags, not errors.
	CheckCredentials(ctx context.Context, acct BureauAccount) (CredentialCheck, error)
}

// Bureau is the whole partner, every role: what an adapter of the bureau
// implements and what the composition root hands out role by role.
type Bureau interface {
	ConsultationBureau
	PEFINRegistry
	BureauAccounts
}

// Error codes of the bureau's ports (bureau_unavailable and bureau_rejected are
// declared with the shared codes).
const (
	CodeBureauBadCredentials  = "bureau_bad_credentials"
	CodeBureauMalformedAnswer = "bureau_malformed_answer"
	CodeBureauRecordNotFound  = "bureau_record_not_found"
)

// BureauUnavailable is the error for a bureau that could not be reached or
// answered with a server error.
func BureauUnavailable(cause error) *Error {
	return NewError(KindBadGateway, CodeBureauUnavailable, "O bureau de crédito está indisponível no momento. Tente novamente em alguns minutos.").WithCause(cause)
}

// BureauTimeout is the error for a bureau that did not answer in time; it
// shares bureau_unavailable's code.
func BureauTimeout(cause error) *Error {
	return NewError(KindBadGateway, CodeBureauUnavailable, "O bureau de crédito não respondeu a tempo. Tente novamente em alguns minutos.").WithCause(cause)
}

// maxBureauMessage caps the bureau's text repeated to callers, so that a
// hostile answer cannot fill our records and answers.
const maxBureauMessage = 500

// BureauRejected is the error for an operation the bureau refused, carrying
// its message.
func BureauRejected(bureauMessage string) *Error {
	msg := cleanBureauMessage(bureauMessage)
	if msg == "" {
		msg = "operação recusada, sem mensagem"
	}
	return Errorf(KindUnprocessable, CodeBureauRejected, "O bureau de crédito recusou a operação: %s", msg).
		WithDetails(map[string]any{"bureauMessage": msg})
}

// cleanBureauMessage keeps printable text only and caps its length.
func cleanBureauMessage(s string) string {
	s = strings.ToValidUTF8(s, "")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > maxBureauMessage {
		s = string([]rune(s)[:maxBureauMessage]) + "…"
	}
	return s
}

// CredentialKind names one of the account's two passwords.
type CredentialKind string

const (
	CredentialConsultation CredentialKind = "consultation"
	CredentialPEFIN        CredentialKind = "pefin"
)

// BureauBadCredentials is the error for a login or password the bureau
// refused.
func BureauBadCredentials(kind CredentialKind) *Error {
	msg := "O bureau de crédito recusou o login ou a senha de consulta. Revise os dados da integração."
	if kind == CredentialPEFIN {
		msg = "O bureau de crédito recusou o login ou a senha PEFIN. Revise os dados da integração."
	}
	return NewError(KindUnprocessable, CodeBureauBadCredentials, msg).WithDetails(map[string]any{"credential": string(kind)})
}

// BureauMalformedAnswer is the error for an answer that could not be
// understood.
func BureauMalformedAnswer(cause error) *Error {
	return NewError(KindBadGateway, CodeBureauMalformedAnswer, "O bureau de crédito enviou uma resposta inválida. Tente novamente em alguns minutos.").WithCause(cause)
}

// BureauRecordNotFound is the error for a reference the bureau does not know.
func BureauRecordNotFound(reference string) *Error {
	return NewError(KindNotFound, CodeBureauRecordNotFound, "Registro não encontrado no bureau de crédito.").
		WithDetails(map[string]any{"reference": reference})
}

// Environment is where an integration's calls go: the partner's homologation
// (test mode, never charged) or production.
type Environment string

const (
	EnvironmentHomologation Environment = "homologation"
	EnvironmentProduction   Environment = "production"
)

// Valid reports whether e is a known environment.
func (e Environment) Valid() bool {
	return e == EnvironmentHomologation || e == EnvironmentProduction
}

// Name is the environment's Portuguese name.
func (e Environment) Name() string {
	switch e {
	case EnvironmentHomologation:
		return "Homologação"
	case EnvironmentProduction:
		return "Produção"
	}
	return string(e)
}

// Credentials are an account's login and its two passwords. Printing or
// logging them (fmt, slog) never shows a password; encoding/json does, for the
// secret store only.
type Credentials struct {
	Login                string
	ConsultationPassword string
	PEFINPassword        string
}

func redacted(password string) string {
	if password == "" {
		return "[empty]"
	}
	return "[redacted]"
}

func (c Credentials) String() string {
	return fmt.Sprintf("{Login:%q ConsultationPassword:%s PEFINPassword:%s}", c.Login, redacted(c.ConsultationPassword), redacted(c.PEFINPassword))
}

func (c Credentials) GoString() string { return "credit.Credentials" + c.String() }

// Format makes every fmt verb (%d, %x, %+v ...) print the redacted form.
func (c Credentials) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		io.WriteString(f, c.GoString())
		return
	}
	io.WriteString(f, c.String())
}

// LogValue shows the login and whether each password is set.
func (c Credentials) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("login", c.Login),
		slog.Bool("consultationPasswordSet", c.ConsultationPassword != ""),
		slog.Bool("pefinPasswordSet", c.PEFINPassword != ""),
	)
}

// BureauAccount is what every bureau call acts for: an integration's
// environment and credentials.
type BureauAccount struct {
	Environment Environment
	Credentials Credentials
}

func (a BureauAccount) String() string {
	return fmt.Sprintf("{Environment:%s Credentials:%s}", a.Environment, a.Credentials.String())
}

// Format makes every fmt verb print the redacted form.
func (a BureauAccount) Format(f fmt.State, verb rune) { io.WriteString(f, a.String()) }

func (a BureauAccount) LogValue() slog.Value {
	return slog.GroupValue(slog.String("environment", string(a.Environment)), slog.Any("credentials", a.Credentials))
}

// BureauRecordStatus is where a negativation stands at the bureau.
type BureauRecordStatus string

const (
	// BureauRecordPending: received, not yet visible (the notice letter is on
	// its way; about 10 days at Serasa).
	BureauRecordPending BureauRecordStatus = "pending"
	// BureauRecordActive: visible to whoever consults the debtor.
	BureauRecordActive BureauRecordStatus = "active"
	// BureauRecordRejected: the bureau refused it after processing; Message
	// says why.
	BureauRecordRejected BureauRecordStatus = "rejected"
	// BureauRecordRemoved: taken off (baixa).
	BureauRecordRemoved BureauRecordStatus = "removed"
)

// Valid reports whether s is a known status.
func (s BureauRecordStatus) Valid() bool {
	switch s {
	case BureauRecordPending, BureauRecordActive, BureauRecordRejected, BureauRecordRemoved:
		return true
	}
	return false
}

// BureauRecord is a negativation as the bureau holds it.
type BureauRecord struct {
	Reference string
	Protocol  string
	Status    BureauRecordStatus
	// Message is the bureau's note on the record, the reason of a rejection.
	Message   string
	UpdatedAt time.Time
}

// BureauPlan is a plan the account may consult.
type BureauPlan struct {
	Plan        Plan
	ProductCode string
	// Name is the bureau's name for the product.
	Name string
}

// BureauCode is one entry of the bureau's restriction or removal codes.
type BureauCode struct {
	Code        string
	Description string
}

// CredentialCheck says which of an account's passwords the bureau accepts.
type CredentialCheck struct {
	Consultation bool
	PEFIN        bool
}

// OK reports whether both passwords work.
func (c CredentialCheck) OK() bool { return c.Consultation && c.PEFIN }
