package connectsa

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"creditanalysis/shared/credit"
)

// ChangeConsultationPassword changes the consultation password at the
// partner (see credit.BureauAccounts). It is never retried once sent: after a
// bureau_unavailable, CheckCredentials tells which password holds.
func (cl *Client) ChangeConsultationPassword(ctx context.Context, acct credit.BureauAccount, newPassword string) error {
	return cl.changePassword(ctx, acct, credit.CredentialConsultation, newPassword)
}

// ChangePEFINPassword changes the PEFIN password, like
// ChangeConsultationPassword.
func (cl *Client) ChangePEFINPassword(ctx context.Context, acct credit.BureauAccount, newPassword string) error {
	return cl.changePassword(ctx, acct, credit.CredentialPEFIN, newPassword)
}

func (cl *Client) changePassword(ctx context.Context, acct credit.BureauAccount, kind credit.CredentialKind, newPassword string) error {
	if newPassword == "" {
		var fe credit.FieldErrors
		fe.Add("newPassword", "obrigatória")
		return fe.Err()
	}
	form := url.Values{"login": {acct.Credentials.Login}, "novasenha": {newPassword}}
	if kind == credit.CredentialPEFIN {
		form.Set("tipo", "pefin")
		form.Set("senhapefin", acct.Credentials.PEFINPassword)
	} else {
		form.Set("tipo", "consulta")
		form.Set("password", acct.Credentials.ConsultationPassword)
	}
	var out statusAnswer
	_, err := cl.do(ctx, acct, call{op: "change-password-" + string(kind), path: pathPassword, form: form, timeout: cl.cfg.CallTimeout, retry: retryIfNotSent, credential: kind}, &out)
	if errors.Is(err, errNotFound) {
		return credit.BureauBadCredentials(kind)
	}
	return err
}

// Plans lists the account's products that map to a plan; products without a
// plan in this product are left out.
func (cl *Client) Plans(ctx context.Context, acct credit.BureauAccount) ([]credit.BureauPlan, error) {
	form := url.Values{"login": {acct.Credentials.Login}, "password": {acct.Credentials.ConsultationPassword}}
	var out productsAnswer
	_, err := cl.do(ctx, acct, call{op: "plans", path: pathProducts, form: form, timeout: cl.cfg.CallTimeout, retry: retryIdempotent, credential: credit.CredentialConsultation}, &out)
	if errors.Is(err, errNotFound) {
		return []credit.BureauPlan{}, nil
	}
	if err != nil {
		return nil, err
	}
	plans := []credit.BureauPlan{}
	for _, p := range out.Products {
		code := strings.TrimSpace(string(p.Code))
		plan, ok := cl.products[code]
		if !ok {
			continue
		}
		name := strings.TrimSpace(p.Description)
		if name == "" {
			name = plan.Name()
		}
		plans = append(plans, credit.BureauPlan{Plan: plan, ProductCode: code, Name: name})
	}
	return plans, nil
}

// CheckCredentials asks the partner's access check which passwords it
// accepts; it charges nothing and changes nothing.
func (cl *Client) CheckCredentials(ctx context.Context, acct credit.BureauAccount) (credit.CredentialCheck, error) {
	form := url.Values{
		"login":      {acct.Credentials.Login},
		"password":   {acct.Credentials.ConsultationPassword},
		"senhapefin": {acct.Credentials.PEFINPassword},
	}
	var out accessAnswer
	_, err := cl.do(ctx, acct, call{op: "check-credentials", path: pathAccess, form: form, timeout: cl.cfg.CallTimeout, retry: retryIdempotent, credential: credit.CredentialConsultation}, &out)
	switch {
	case errors.Is(err, errNotFound):
		return credit.CredentialCheck{}, credit.BureauMalformedAnswer(errors.New("access check answered record not found"))
	case credit.ErrorCode(err) == credit.CodeBureauBadCredentials:
		// An unknown login: neither password works.
		return credit.CredentialCheck{}, nil
	case err != nil:
		return credit.CredentialCheck{}, err
	case out.Access == nil:
		return credit.CredentialCheck{}, credit.BureauMalformedAnswer(errors.New("access answer without acesso"))
	}
	consultation, ok1 := parseYesNo(out.Access.Consultation)
	pefin, ok2 := parseYesNo(out.Access.PEFIN)
	if !ok1 || !ok2 {
		return credit.CredentialCheck{}, credit.BureauMalformedAnswer(fmt.Errorf("acesso flags %q/%q", truncate(out.Access.Consultation, 8), truncate(out.Access.PEFIN, 8)))
	}
	return credit.CredentialCheck{Consultation: consultation, PEFIN: pefin}, nil
}

func parseYesNo(s string) (bool, bool) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "S":
		return true, true
	case "N":
		return false, true
	}
	return false, false
}
