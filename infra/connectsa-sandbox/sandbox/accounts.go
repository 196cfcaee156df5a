package sandbox

import (
	"slices"
	"strings"
	"time"
)

type passwordKind string

const (
	kindConsultation passwordKind = "consulta"
	kindPEFIN        passwordKind = "pefin"
)

// account is one login at the bureau. A password kind is enrolled the first
// time it is presented; history holds every password the kind ever had,
// current included, for the no-reuse rule.
type account struct {
	passwords map[passwordKind]string
	history   map[passwordKind][]string
	records   map[string]*record
	products  []wireCode
}

// Products every account may consult, unless its login restricts them.
// CREDNET_LIGHT has no plan in the product: an adapter must ignore it.
var allProducts = []wireCode{
	{"INDICADOR_NEGATIVOS", "Indicador de negativos"},
	{"CREDNET_TOP", "Crednet Top"},
	{"RELATORIO_SCORE", "Relatório + Score"},
	{"CREDNET_LIGHT", "Crednet Light"},
}

// ScoreOnlyLoginPrefix starts the logins whose account offers only
// RELATORIO_SCORE, to try a plan the account does not have.
const ScoreOnlyLoginPrefix = "score-only"

// accountFor returns login's account, enrolling it if unknown; the caller
// holds s.mu.
func (s *Server) accountFor(login string) *account {
	a, ok := s.accounts[login]
	if !ok {
		a = &account{
			passwords: map[passwordKind]string{},
			history:   map[passwordKind][]string{},
			records:   map[string]*record{},
			products:  allProducts,
		}
		if strings.HasPrefix(login, ScoreOnlyLoginPrefix) {
			a.products = []wireCode{{"RELATORIO_SCORE", "Relatório + Score"}}
		}
		s.accounts[login] = a
	}
	return a
}

// authenticate checks password against the account's password of kind,
// enrolling it when the kind was never presented; the caller holds s.mu.
func (a *account) authenticate(kind passwordKind, password string) bool {
	if password == "" {
		return false
	}
	current, enrolled := a.passwords[kind]
	if !enrolled {
		a.passwords[kind] = password
		a.history[kind] = append(a.history[kind], password)
		return true
	}
	return current == password
}

// login authenticates a call, answering the partner's access error when it
// fails; the caller holds s.mu.
func (s *Server) login(form formValues, kind passwordKind, field string) (*account, *status) {
	login := form.get("login")
	if login == "" {
		st := newStatus(codeBadCredentials, "Login não informado.", "")
		return nil, &st
	}
	a := s.accountFor(login)
	if !a.authenticate(kind, form.get(field)) {
		msg := "Login ou senha inválidos."
		if kind == kindPEFIN {
			msg = "Login ou senha PEFIN inválidos."
		}
		st := newStatus(codeBadCredentials, msg, "")
		return nil, &st
	}
	return a, nil
}

func (s *Server) access(form formValues, now time.Time) outcome {
	s.mu.Lock()
	defer s.mu.Unlock()
	login := form.get("login")
	if login == "" {
		return outcome{body: statusOnly{newStatus(codeBadCredentials, "Login não informado.", "")}}
	}
	a := s.accountFor(login)
	yes := func(ok bool) string {
		if ok {
			return "S"
		}
		return "N"
	}
	return outcome{body: accessAnswer{
		Status: newStatus(codeOK, "Acesso verificado.", ""),
		Access: access{
			Consultation: yes(a.authenticate(kindConsultation, form.get("password"))),
			PEFIN:        yes(a.authenticate(kindPEFIN, form.get("senhapefin"))),
		},
	}}
}

func (s *Server) products(form formValues, now time.Time) outcome {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, st := s.login(form, kindConsultation, "password")
	if st != nil {
		return outcome{body: statusOnly{*st}}
	}
	return outcome{body: productsAnswer{Status: newStatus(codeOK, "Produtos do login.", ""), Products: a.products}}
}

func (s *Server) changePassword(form formValues, now time.Time) outcome {
	s.mu.Lock()
	defer s.mu.Unlock()
	var kind passwordKind
	var field string
	switch form.get("tipo") {
	case "consulta":
		kind, field = kindConsultation, "password"
	case "pefin":
		kind, field = kindPEFIN, "senhapefin"
	default:
		return rejected("Tipo de senha inválido: informe consulta ou pefin.")
	}
	a, st := s.login(form, kind, field)
	if st != nil {
		return outcome{body: statusOnly{*st}}
	}
	next := form.get("novasenha")
	var violations []string
	if kind == kindConsultation {
		violations = ConsultationPasswordViolations(next)
	} else {
		violations = PEFINPasswordViolations(next)
	}
	if len(violations) > 0 {
		return rejected("Senha não atende aos critérios: " + strings.Join(violations, "; ") + ".")
	}
	if slices.Contains(a.history[kind], next) {
		return rejected("A nova senha deve ser diferente de qualquer senha utilizada anteriormente.")
	}
	a.passwords[kind] = next
	a.history[kind] = append(a.history[kind], next)
	return outcome{body: statusOnly{newStatus(codeOK, "Senha alterada com sucesso.", s.protocol())}}
}

// ConsultationPasswordViolations lists, in the partner's words, what
// password breaks of the consultation password rules: exactly 8 characters,
// at least one a-z, one A-Z, one 0-9 and one of @ # !, nothing else.
func ConsultationPasswordViolations(password string) []string {
	var v []string
	var lower, upper, digit, special, other bool
	n := 0
	for _, r := range password {
		n++
		switch {
		case r >= 'a' && r <= 'z':
			lower = true
		case r >= 'A' && r <= 'Z':
			upper = true
		case r >= '0' && r <= '9':
			digit = true
		case r == '@' || r == '#' || r == '!':
			special = true
		default:
			other = true
		}
	}
	if n != 8 {
		v = append(v, "deve conter 8 caracteres")
	}
	if !lower {
		v = append(v, "deve conter no mínimo uma letra minúscula (a-z)")
	}
	if !upper {
		v = append(v, "deve conter no mínimo uma letra maiúscula (A-Z)")
	}
	if !digit {
		v = append(v, "deve conter no mínimo um número (0-9)")
	}
	if !special {
		v = append(v, "deve conter no mínimo um caractere especial (@#!)")
	}
	if other {
		v = append(v, "deve conter somente letras, números e os caracteres especiais @#!")
	}
	return v
}

// PEFINPasswordViolations lists what password breaks of the PEFIN password
// rules: exactly 6 digits, no three consecutive ascending or descending
// digits (123, 987, 012; 890 is not a run).
func PEFINPasswordViolations(password string) []string {
	var v []string
	digits := true
	for i := 0; i < len(password); i++ {
		if password[i] < '0' || password[i] > '9' {
			digits = false
		}
	}
	if !digits {
		v = append(v, "deve conter somente números (0-9)")
	}
	if len(password) != 6 {
		v = append(v, "deve conter 6 dígitos")
	}
	if digits {
		for i := 0; i+2 < len(password); i++ {
			a, b, c := int(password[i]), int(password[i+1]), int(password[i+2])
			if (b == a+1 && c == b+1) || (b == a-1 && c == b-1) {
				v = append(v, "deve conter números não sequenciais (exemplo: 123)")
				break
			}
		}
	}
	return v
}

// Restriction and removal codes of the sandbox; the partner's real lists come
// from its code endpoint.
var (
	restrictionCodes = []wireCode{
		{"01", "Prestação de serviços"},
		{"02", "Mensalidade de internet"},
		{"03", "Venda de equipamento"},
		{"04", "Multa contratual"},
		{"05", "Outros débitos"},
	}
	removalCodes = []wireCode{
		{"01", "Pagamento da dívida"},
		{"02", "Renegociação da dívida"},
		{"03", "Inclusão indevida"},
		{"04", "Decisão judicial"},
		{"05", "Outros motivos"},
	}
)

func (s *Server) codes(form formValues, now time.Time) outcome {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, st := s.login(form, kindPEFIN, "senhapefin"); st != nil {
		return outcome{body: statusOnly{*st}}
	}
	switch form.get("tipo") {
	case "restricao":
		return outcome{body: codesAnswer{Status: newStatus(codeOK, "Códigos de restrição.", ""), Codes: restrictionCodes}}
	case "baixa":
		return outcome{body: codesAnswer{Status: newStatus(codeOK, "Códigos de baixa.", ""), Codes: removalCodes}}
	}
	return rejected("Tipo de código inválido: informe restricao ou baixa.")
}

func rejected(message string) outcome {
	return outcome{body: statusOnly{newStatus(codeRejected, message, "")}}
}

func knownCode(codes []wireCode, code string) bool {
	return slices.ContainsFunc(codes, func(c wireCode) bool { return c.Code == code })
}
