package credit

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
)

// IncludeRequest asks for a negativation of one invoice.
type IncludeRequest struct {
	CustomerID string
	InvoiceID  string
	// RestrictionCode is the bureau's code for the kind of debt; the
	// integration's when empty.
	RestrictionCode string
	// Origin is manual unless the billing rule asks (automatic, with RunID).
	Origin Origin
	RunID  string
}

func (r *IncludeRequest) validate() error {
	var fe FieldErrors
	if !ValidID(r.CustomerID) {
		fe.Add("customerId", "obrigatório; letras, números, ponto, hífen ou sublinhado, até 64 caracteres")
	}
	if !ValidID(r.InvoiceID) {
		fe.Add("invoiceId", "obrigatório; letras, números, ponto, hífen ou sublinhado, até 64 caracteres")
	}
	r.RestrictionCode = trimCode(r.RestrictionCode)
	if len(r.RestrictionCode) > 32 {
		fe.Add("restrictionCode", "até 32 caracteres")
	}
	validOrigin(&fe, &r.Origin, r.RunID)
	return fe.Err()
}

func validOrigin(fe *FieldErrors, o *Origin, runID string) {
	if *o == "" {
		*o = OriginManual
	}
	switch *o {
	case OriginManual:
		if runID != "" {
			fe.Add("runId", "só para a origem automática")
		}
	case OriginAutomatic:
		if !ValidID(runID) {
			fe.Add("runId", "obrigatório para a origem automática")
		}
	default:
		fe.Add("origin", `deve ser "manual" ou "automatic"`)
	}
}

// Include registers req's invoice with the bureau, after every rule of the
// reference: master switch on, the customer's branch integrated, the
// customer's required fields filled, the invoice open, overdue, with an
// amount and at most 5 years past due, a CPF debtor of age, one negativation
// per invoice.
//
// The record is written (submitting) before the bureau is called, so the
// answer is always a definite record: pending, active or rejected on
// success; failed (retryable) with the bureau's error otherwise (502 or
// 422, Details naming the record). Including an invoice whose record failed
// retries that same record with the same reference, which the bureau never
// registers twice; any other existing record is 409 already_negativated.
func (s *NegativationService) Include(ctx context.Context, req IncludeRequest) (Negativation, error) {
	return s.include(ctx, s.own(), req)
}

func (s *NegativationService) include(ctx context.Context, d negativationDeps, req IncludeRequest) (Negativation, error) {
	p, err := s.planInclusion(ctx, d, &req)
	if err != nil {
		return Negativation{}, err
	}
	actor := who(ctx)
	var n Negativation
	if p.retry != nil {
		n, err = s.claimRetry(ctx, p.retry.ID, p.customer, p.invoice, p.code, actor, req.RunID)
	} else {
		n, err = s.create(ctx, p.customer, p.invoice, p.integration, p.code, req, actor)
	}
	if err != nil {
		return Negativation{}, err
	}
	breq := inclusionRequest(n, p.customer, p.integration)
	return s.submit(ctx, d, p.integration, n, breq, actor, req.RunID)
}

// inclusionPlan is what an inclusion that passed every rule would send:
// the debtor, the debt, the integration and the restriction code, and the
// failed record it retries, if any.
type inclusionPlan struct {
	customer    Party
	invoice     Invoice
	integration Integration
	code        string
	retry       *Negativation
}

// planInclusion applies every rule of an inclusion, reading only: nothing
// is written and the bureau is not called. A billing run's dry run stops
// here.
func (s *NegativationService) planInclusion(ctx context.Context, d negativationDeps, req *IncludeRequest) (inclusionPlan, error) {
	if err := req.validate(); err != nil {
		return inclusionPlan{}, err
	}
	if err := RequireEnabled(ctx, d.params); err != nil {
		return inclusionPlan{}, err
	}
	customer, err := s.Parties.GetParty(ctx, PartyCustomer, req.CustomerID)
	if err != nil {
		return inclusionPlan{}, notFoundAs(err, "Cliente")
	}
	if err := AllowBranch(ctx, customer.BranchID); err != nil {
		return inclusionPlan{}, err
	}
	invoice, err := s.Parties.GetInvoice(ctx, req.CustomerID, req.InvoiceID)
	if err != nil {
		return inclusionPlan{}, notFoundAs(err, "Fatura")
	}
	p := inclusionPlan{customer: customer, invoice: invoice}

	now := s.Now.Now()
	existing, err := s.Store.GetNegativationByInvoice(ctx, req.CustomerID, req.InvoiceID)
	switch {
	case err == nil && !existing.retryable(now):
		return inclusionPlan{}, ErrAlreadyNegativated(existing)
	case err == nil:
		p.retry = &existing
	case ErrorKind(err) != KindNotFound:
		return inclusionPlan{}, err
	}

	if p.retry != nil {
		// The retry goes to the account the first attempt may have reached.
		p.integration, err = d.integrations.GetIntegration(ctx, existing.IntegrationID)
	} else {
		p.integration, err = d.integrations.GetIntegrationByBranch(ctx, customer.BranchID)
	}
	if ErrorKind(err) == KindNotFound {
		return inclusionPlan{}, ErrBranchWithoutIntegration(customer.BranchID)
	} else if err != nil {
		return inclusionPlan{}, err
	}
	if req.Origin == OriginAutomatic && !p.integration.Automation.Enabled {
		return inclusionPlan{}, errAutomationDisabled(p.integration)
	}
	if err := checkNegativable(customer, invoice, DateOf(now, SaoPaulo())); err != nil {
		return inclusionPlan{}, err
	}
	p.code = req.RestrictionCode
	if p.code == "" {
		p.code = p.integration.Automation.RestrictionCode
	}
	if p.code == "" {
		return inclusionPlan{}, NewError(KindUnprocessable, CodeRestrictionCodeRequired,
			"Informe o código de restrição: a integração não tem um código padrão configurado.")
	}
	// The credentials must be readable before anything is written.
	if _, err := d.bureau.Account(ctx, p.integration); err != nil {
		return inclusionPlan{}, err
	}
	return p, nil
}

// validateRequest checks what the bureau would be sent for the plan, as if
// recorded under reference id: a data_rejected refusal when it would not
// accept it.
func (p inclusionPlan) validateRequest(id string) error {
	n := Negativation{ID: id, RestrictionCode: p.code}
	snapshot(&n, p.customer, p.invoice)
	if err := inclusionRequest(n, p.customer, p.integration).Validate(); err != nil {
		return dataRejected(err)
	}
	return nil
}

// checkNegativable applies the reference's rules on the debtor and the debt,
// on the calendar day today (São Paulo).
func checkNegativable(c Party, inv Invoice, today Date) error {
	if fields, labels := c.MissingForNegativation(); len(fields) > 0 {
		return Errorf(KindUnprocessable, CodeMissingCustomerFields,
			"Para negativar, preencha no cadastro do cliente: %s.", strings.Join(labels, ", ")).
			WithDetails(map[string]any{"fields": fields, "labels": labels})
	}
	switch {
	case inv.Status != InvoiceOpen:
		return Errorf(KindUnprocessable, CodeInvoiceNotOpen, "A fatura %s não está em aberto (situação %s).", inv.ID, inv.Status).
			WithDetails(map[string]any{"invoiceStatus": string(inv.Status)})
	case inv.AmountCents <= 0:
		return Errorf(KindUnprocessable, CodeInvoiceWithoutAmount, "A fatura %s não tem valor a negativar.", inv.ID)
	case !inv.DueDate.Before(today):
		return Errorf(KindUnprocessable, CodeInvoiceNotOverdue, "A fatura %s ainda não está vencida (vencimento %s).", inv.ID, inv.DueDate).
			WithDetails(map[string]any{"dueDate": inv.DueDate.String()})
	case inv.DueDate.AddYears(MaxDebtAgeYears).Before(today):
		return Errorf(KindUnprocessable, CodeDebtTooOld,
			"A fatura %s venceu há mais de %d anos (vencimento %s): o débito não pode mais ser negativado.", inv.ID, MaxDebtAgeYears, inv.DueDate).
			WithDetails(map[string]any{"dueDate": inv.DueDate.String()})
	}
	if c.Document.Kind() == CPF && c.BirthDate.YearsUntil(today) < MinDebtorAge {
		return Errorf(KindUnprocessable, CodeDebtorUnderage, "O devedor é menor de %d anos e não pode ser negativado.", MinDebtorAge)
	}
	return nil
}

// create writes a new submitting record with the invoice's marker; of
// concurrent creates for one invoice only one gets here with nil error.
func (s *NegativationService) create(ctx context.Context, c Party, inv Invoice, i Integration, code string, req IncludeRequest, actor Actor) (Negativation, error) {
	now := s.Now.Now()
	n := Negativation{
		ID:         s.NewID(),
		CustomerID: c.ID, InvoiceID: inv.ID, IntegrationID: i.ID, BranchID: c.BranchID,
		RestrictionCode: code, Origin: req.Origin, RequestedBy: actor, RunID: req.RunID,
		CreatedAt: now, Version: 1,
	}
	snapshot(&n, c, inv)
	if err := n.Submit(now, actor, req.RunID); err != nil {
		return Negativation{}, err
	}
	if err := inclusionRequest(n, c, i).Validate(); err != nil {
		return Negativation{}, dataRejected(err)
	}
	if err := s.Store.CreateNegativation(ctx, n); err != nil {
		switch {
		case ErrorKind(err) == KindNotFound:
			return Negativation{}, ErrBranchWithoutIntegration(c.BranchID)
		case ErrorCode(err) == CodeAlreadyNegativated:
			// Lost the race for the invoice: name the winner as it stands.
			if winner, gerr := s.Store.GetNegativationByInvoice(ctx, c.ID, inv.ID); gerr == nil {
				return Negativation{}, ErrAlreadyNegativated(winner)
			}
		}
		return Negativation{}, err
	}
	return n, nil
}

// claimRetry moves a failed (or abandoned submitting) record back to
// submitting; only one of concurrent retries wins, the others see it
// submitting and get already_negativated.
func (s *NegativationService) claimRetry(ctx context.Context, id string, c Party, inv Invoice, code string, actor Actor, runID string) (Negativation, error) {
	n, err := s.Store.UpdateNegativation(ctx, id, func(cur *Negativation) error {
		if err := cur.Submit(s.Now.Now(), actor, runID); err != nil {
			return err
		}
		cur.RestrictionCode = code
		snapshot(cur, c, inv)
		return nil
	})
	if ErrorKind(err) == KindNotFound {
		return Negativation{}, ErrBranchWithoutIntegration(c.BranchID)
	}
	return n, err
}

// snapshot copies what is sent to the bureau onto the record.
func snapshot(n *Negativation, c Party, inv Invoice) {
	n.Document, n.DebtorName = c.Document, c.Name
	n.AmountCents, n.DueDate = inv.AmountCents, inv.DueDate
	n.ContractNumber, n.DocumentNumber = inv.ContractNumber, inv.DocumentNumber
}

func dataRejected(err error) error {
	e, ok := AsError(err)
	if !ok {
		return err
	}
	return NewError(KindUnprocessable, CodeNegativationDataRejected,
		"Os dados do cliente ou da fatura não podem ser enviados ao bureau: "+strings.TrimSuffix(strings.TrimPrefix(e.Message, "Dados inválidos: "), ".")+".").
		WithDetails(e.Details)
}

func inclusionRequest(n Negativation, c Party, i Integration) NegativationRequest {
	return NegativationRequest{
		Reference: n.ID, SendSMS: i.SendSMSOnInclusion, ResponsibleCPF: i.ResponsibleCPF,
		Debtor: Debtor{
			Document: c.Document, Name: c.Name, BirthDate: c.BirthDate.Time(), Gender: string(c.Gender), Phone: c.MobilePhone,
			Address: DebtorAddress{Street: c.Address.Street, Number: c.Address.Number, Complement: c.Address.Complement,
				Neighborhood: c.Address.Neighborhood, City: c.Address.City, UF: c.Address.UF, CEP: c.Address.CEP},
		},
		Debt: Debt{RestrictionCode: n.RestrictionCode, Contract: n.ContractNumber, DocumentNumber: n.DocumentNumber,
			DueDate: n.DueDate.Time(), Amount: n.AmountCents},
	}
}

// submit sends the inclusion of the claimed record n and records the
// outcome, even when the caller has gone away meanwhile.
func (s *NegativationService) submit(ctx context.Context, d negativationDeps, i Integration, n Negativation, breq NegativationRequest, actor Actor, runID string) (Negativation, error) {
	rec, berr := d.bureau.Include(ctx, i, breq)
	if berr == nil && !rec.Status.Valid() {
		berr = BureauMalformedAnswer(fmt.Errorf("inclusion answered with status %q", rec.Status))
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), outcomeTimeout)
	defer cancel()
	updated, err := s.Store.UpdateNegativation(wctx, n.ID, func(cur *Negativation) error {
		if cur.Status != NegativationSubmitting || cur.Attempts != n.Attempts {
			return ErrNoChange // settled meanwhile by the sync or a takeover
		}
		if berr != nil {
			return cur.FailInclusion(s.Now.Now(), actor, runID, berr)
		}
		return cur.ApplyBureauRecord(s.Now.Now(), actor, runID, rec)
	})
	if err != nil {
		// The bureau call is done but its outcome is not written: the record
		// stays submitting until a retry or the sync asks the bureau.
		d.log.ErrorContext(ctx, "negativation outcome not recorded", slog.String("negativationId", n.ID),
			slog.String("document", n.Document.Masked()), slog.String("bureauOutcome", ErrorCode(berr)), slog.String("error", err.Error()))
		return Negativation{}, err
	}
	if berr != nil {
		d.log.WarnContext(ctx, "negativation inclusion failed", slog.String("negativationId", n.ID), slog.String("document", n.Document.Masked()),
			slog.String("code", ErrorCode(berr)), slog.Bool("outcomeUnknown", updated.OutcomeUnknown), slog.String("error", berr.Error()))
		return updated, naming(berr, updated)
	}
	return updated, nil
}
