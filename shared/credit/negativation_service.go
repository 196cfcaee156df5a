package credit

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
)

// NegativationService registers debtors with the bureau, follows the
// records and removes them. The HTTP area calls it for people; the billing
// rule calls the same operations with Origin automatic and its run id.
type NegativationService struct {
	Store        NegativationStore
	Parties      PartyStore
	Parameters   ParametersStore
	Integrations IntegrationStore
	Bureau       RegistryAccess
	Now          func() time.Time
	NewID        func() string
	Log          *slog.Logger
}

// negativationDeps are what an operation reads and calls through: the
// service's own, or a billing-rule run's wrapping of them (its throttle on
// the bureau, its short-lived caches of the master switch and the
// integrations, its log naming the run).
type negativationDeps struct {
	params       ParametersStore
	integrations IntegrationStore
	bureau       RegistryAccess
	log          *slog.Logger
}

func (s *NegativationService) own() negativationDeps {
	return negativationDeps{params: s.Parameters, integrations: s.Integrations, bureau: s.Bureau, log: s.log()}
}

// outcomeTimeout bounds the write that records a bureau call's outcome,
// which runs even when the caller has gone away.
const outcomeTimeout = 5 * time.Second

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
	if err := req.validate(); err != nil {
		return Negativation{}, err
	}
	if err := RequireEnabled(ctx, d.params); err != nil {
		return Negativation{}, err
	}
	customer, err := s.Parties.GetParty(ctx, PartyCustomer, req.CustomerID)
	if err != nil {
		return Negativation{}, notFoundAs(err, "Cliente")
	}
	invoice, err := s.Parties.GetInvoice(ctx, req.CustomerID, req.InvoiceID)
	if err != nil {
		return Negativation{}, notFoundAs(err, "Fatura")
	}

	now := s.now()
	existing, err := s.Store.GetNegativationByInvoice(ctx, req.CustomerID, req.InvoiceID)
	switch {
	case err == nil && !existing.retryable(now):
		return Negativation{}, ErrAlreadyNegativated(existing)
	case err != nil && ErrorKind(err) != KindNotFound:
		return Negativation{}, err
	}
	retry := err == nil

	var integration Integration
	if retry {
		// The retry goes to the account the first attempt may have reached.
		integration, err = d.integrations.GetIntegration(ctx, existing.IntegrationID)
	} else {
		integration, err = d.integrations.GetIntegrationByBranch(ctx, customer.BranchID)
	}
	if ErrorKind(err) == KindNotFound {
		return Negativation{}, ErrBranchWithoutIntegration(customer.BranchID)
	} else if err != nil {
		return Negativation{}, err
	}
	if req.Origin == OriginAutomatic && !integration.Automation.Enabled {
		return Negativation{}, errAutomationDisabled(integration)
	}
	if err := checkNegativable(customer, invoice, DateOf(now, SaoPaulo)); err != nil {
		return Negativation{}, err
	}
	code := req.RestrictionCode
	if code == "" {
		code = integration.Automation.RestrictionCode
	}
	if code == "" {
		return Negativation{}, NewError(KindUnprocessable, CodeRestrictionCodeRequired,
			"Informe o código de restrição: a integração não tem um código padrão configurado.")
	}
	// The credentials must be readable before anything is written.
	if _, err := d.bureau.Account(ctx, integration); err != nil {
		return Negativation{}, err
	}
	actor := who(ctx)

	var n Negativation
	if retry {
		n, err = s.claimRetry(ctx, existing.ID, customer, invoice, code, actor, req.RunID)
	} else {
		n, err = s.create(ctx, customer, invoice, integration, code, req, actor)
	}
	if err != nil {
		return Negativation{}, err
	}
	breq := inclusionRequest(n, customer, integration)
	return s.submit(ctx, d, integration, n, breq, actor, req.RunID)
}

func notFoundAs(err error, what string) error {
	if ErrorKind(err) == KindNotFound {
		return NotFound(what)
	}
	return err
}

func errAutomationDisabled(i Integration) *Error {
	return Errorf(KindUnprocessable, CodeAutomationDisabled,
		"A inclusão/exclusão automática está desabilitada na integração da filial ID %s.", i.BranchID).
		WithDetails(map[string]any{"integrationId": i.ID})
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
	now := s.now()
	n := Negativation{
		ID: s.NewID(), Status: NegativationSubmitting,
		CustomerID: c.ID, InvoiceID: inv.ID, IntegrationID: i.ID, BranchID: c.BranchID,
		RestrictionCode: code, Origin: req.Origin, RequestedBy: actor, RunID: req.RunID,
		Attempts: 1, CreatedAt: now, UpdatedAt: now, Version: 1,
	}
	snapshot(&n, c, inv)
	n.record(NegativationEvent{Status: NegativationSubmitting, At: now, By: actor, RunID: req.RunID, Message: "Inclusão enviada ao bureau."})
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
		now := s.now()
		if !cur.retryable(now) {
			return ErrAlreadyNegativated(*cur)
		}
		cur.Status = NegativationSubmitting
		cur.Attempts++
		cur.RestrictionCode = code
		snapshot(cur, c, inv)
		cur.UpdatedAt = now
		cur.record(NegativationEvent{Status: NegativationSubmitting, At: now, By: actor, RunID: runID,
			Message: "Nova tentativa de inclusão enviada ao bureau (mesma referência)."})
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
		now := s.now()
		if berr != nil {
			markFailed(cur, berr, now, actor, runID)
		} else if !applyBureauRecord(cur, rec, now, actor, runID) {
			return ErrNoChange
		}
		cur.UpdatedAt = now
		return nil
	})
	if err != nil {
		// The bureau call is done but its outcome is not written: the record
		// stays submitting until a retry or the sync asks the bureau.
		d.log.Error("negativation outcome not recorded", slog.String("negativationId", n.ID),
			slog.String("document", n.Document.Masked()), slog.String("bureauOutcome", ErrorCode(berr)), slog.String("error", err.Error()))
		return Negativation{}, err
	}
	if berr != nil {
		d.log.Warn("negativation inclusion failed", slog.String("negativationId", n.ID), slog.String("document", n.Document.Masked()),
			slog.String("code", ErrorCode(berr)), slog.Bool("outcomeUnknown", updated.OutcomeUnknown), slog.String("error", berr.Error()))
		return updated, naming(berr, updated)
	}
	return updated, nil
}

// outcomeUnknown reports whether a failed bureau call may have been applied
// anyway: anything but a definite refusal.
func outcomeUnknown(err error) bool {
	switch ErrorCode(err) {
	case CodeBureauRejected, CodeBureauBadCredentials, CodeValidation, CodeBureauRecordNotFound:
		return false
	}
	return true
}

func markFailed(n *Negativation, err error, now time.Time, by Actor, runID string) {
	code, msg := ErrorCode(err), ErrorMessage(err)
	n.Status = NegativationFailed
	n.OutcomeUnknown = outcomeUnknown(err)
	n.LastError = &NegativationError{Code: code, Message: msg}
	n.record(NegativationEvent{Status: NegativationFailed, At: now, By: by, RunID: runID, ErrorCode: code,
		Message: "Falha na inclusão: " + msg})
}

// applyBureauRecord moves n to the state the bureau reports; false when
// that changes nothing.
func applyBureauRecord(n *Negativation, rec BureauRecord, now time.Time, by Actor, runID string) bool {
	var status NegativationStatus
	switch rec.Status {
	case BureauRecordPending:
		status = NegativationPending
	case BureauRecordActive:
		status = NegativationActive
	case BureauRecordRejected:
		status = NegativationRejected
	case BureauRecordRemoved:
		status = NegativationRemoved
	default:
		return false
	}
	if rec.Protocol != "" {
		n.Protocol = cleanBureauMessage(rec.Protocol)
	}
	msg := cleanBureauMessage(rec.Message)
	if status == n.Status {
		return false
	}
	n.Status, n.OutcomeUnknown, n.LastError = status, false, nil
	if msg != "" {
		n.BureauMessage = msg
	}
	if status == NegativationRemoved && n.RemovedAt.IsZero() {
		n.RemovedAt, n.RemovedBy = now, by
	}
	n.record(NegativationEvent{Status: status, At: now, By: by, RunID: runID, Message: statusMessage(status, msg)})
	return true
}

func statusMessage(s NegativationStatus, bureauMessage string) string {
	var m string
	switch s {
	case NegativationPending:
		m = "Inclusão recebida pelo bureau; aguardando a carta comunicado ao devedor."
	case NegativationActive:
		m = "Negativação ativa no bureau."
	case NegativationRejected:
		m = "Inclusão rejeitada pelo bureau."
	case NegativationRemoved:
		m = "Baixa registrada no bureau."
	}
	if bureauMessage != "" {
		m += " Bureau: " + bureauMessage
	}
	return m
}

// naming adds the record's id and status to a bureau error's details, so the
// caller of a failed inclusion or removal knows which record holds it.
func naming(err error, n Negativation) error {
	e, ok := AsError(err)
	if !ok || e.Kind == KindInternal {
		return err
	}
	d := make(map[string]any, len(e.Details)+2)
	for k, v := range e.Details {
		d[k] = v
	}
	d["negativationId"], d["negativationStatus"] = n.ID, string(n.Status)
	return e.WithDetails(d)
}

// RemoveRequest asks for the removal (baixa) of a negativation.
type RemoveRequest struct {
	// RemovalCode is the bureau's reason; the integration's when empty.
	RemovalCode string
	// Origin automatic (the billing rule, with RunID) removes only records
	// whose invoice is paid or cancelled, for integrations with automation.
	Origin Origin
	RunID  string
}

// Remove takes a pending or active record off the bureau; it ends removed,
// history kept. Anything else is 409 invalid_status. A bureau fault leaves
// the record as it was (still live), with the error in its history, and is
// returned (502 or 422). Of concurrent removals only one reaches the bureau.
func (s *NegativationService) Remove(ctx context.Context, id string, req RemoveRequest) (Negativation, error) {
	return s.remove(ctx, s.own(), id, req)
}

func (s *NegativationService) remove(ctx context.Context, d negativationDeps, id string, req RemoveRequest) (Negativation, error) {
	var fe FieldErrors
	req.RemovalCode = trimCode(req.RemovalCode)
	if len(req.RemovalCode) > 32 {
		fe.Add("removalCode", "até 32 caracteres")
	}
	validOrigin(&fe, &req.Origin, req.RunID)
	if err := fe.Err(); err != nil {
		return Negativation{}, err
	}
	if err := RequireEnabled(ctx, d.params); err != nil {
		return Negativation{}, err
	}
	n, err := s.Store.GetNegativation(ctx, id)
	if err != nil {
		return Negativation{}, err
	}
	if !n.removable(s.now()) {
		return Negativation{}, ErrInvalidStatus(n, "baixar")
	}
	integration, err := d.integrations.GetIntegration(ctx, n.IntegrationID)
	if err != nil {
		return Negativation{}, err
	}
	removedOn := DateOf(s.now(), SaoPaulo)
	inv, err := s.Parties.GetInvoice(ctx, n.CustomerID, n.InvoiceID)
	switch {
	case err == nil && inv.Status != InvoiceOpen && !inv.SettledOn.IsZero():
		removedOn = inv.SettledOn // the day the debt stopped being owed
	case err != nil && ErrorKind(err) != KindNotFound:
		return Negativation{}, err
	}
	if req.Origin == OriginAutomatic {
		if !integration.Automation.Enabled {
			return Negativation{}, errAutomationDisabled(integration)
		}
		if err != nil || inv.Status == InvoiceOpen {
			return Negativation{}, Errorf(KindUnprocessable, CodeInvoiceNotSettled,
				"A baixa automática exige a fatura %s paga ou cancelada.", n.InvoiceID)
		}
	}
	code := req.RemovalCode
	if code == "" {
		code = integration.Automation.RemovalCode
	}
	if code == "" {
		return Negativation{}, NewError(KindUnprocessable, CodeRemovalCodeRequired,
			"Informe o código para baixa: a integração não tem um código padrão configurado.")
	}
	// The credentials must be readable before the record is claimed.
	if _, err := d.bureau.Account(ctx, integration); err != nil {
		return Negativation{}, err
	}
	actor := who(ctx)

	claimed, err := s.Store.UpdateNegativation(ctx, id, func(cur *Negativation) error {
		now := s.now()
		if !cur.removable(now) {
			return ErrInvalidStatus(*cur, "baixar")
		}
		if cur.Status != NegativationRemoving {
			cur.StatusBeforeRemoval = cur.Status
		}
		cur.Status, cur.RemovalCode, cur.UpdatedAt = NegativationRemoving, code, now
		cur.record(NegativationEvent{Status: NegativationRemoving, At: now, By: actor, RunID: req.RunID, Message: "Baixa enviada ao bureau."})
		return nil
	})
	if err != nil {
		return Negativation{}, err
	}

	berr := d.bureau.Remove(ctx, integration, RemovalRequest{Reference: id, RemovalCode: code, Date: removedOn.Time()})
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), outcomeTimeout)
	defer cancel()
	updated, err := s.Store.UpdateNegativation(wctx, id, func(cur *Negativation) error {
		if cur.Status != NegativationRemoving || cur.Version != claimed.Version {
			return ErrNoChange
		}
		now := s.now()
		cur.UpdatedAt = now
		if berr == nil {
			cur.Status, cur.RemovedAt, cur.RemovedBy, cur.LastError = NegativationRemoved, now, actor, nil
			cur.record(NegativationEvent{Status: NegativationRemoved, At: now, By: actor, RunID: req.RunID, Message: "Baixa confirmada pelo bureau."})
			return nil
		}
		code, msg := ErrorCode(berr), ErrorMessage(berr)
		cur.Status = cur.StatusBeforeRemoval
		cur.LastError = &NegativationError{Code: code, Message: msg}
		cur.record(NegativationEvent{Status: cur.Status, At: now, By: actor, RunID: req.RunID, ErrorCode: code, Message: "Falha na baixa: " + msg})
		return nil
	})
	if err != nil {
		d.log.Error("negativation removal outcome not recorded", slog.String("negativationId", id),
			slog.String("bureauOutcome", ErrorCode(berr)), slog.String("error", err.Error()))
		return Negativation{}, err
	}
	if berr != nil {
		d.log.Warn("negativation removal failed", slog.String("negativationId", id), slog.String("document", n.Document.Masked()),
			slog.String("code", ErrorCode(berr)), slog.String("error", berr.Error()))
		return updated, naming(berr, updated)
	}
	return updated, nil
}

// SyncRequest asks the bureau about the records still in motion: of one
// integration, or of all when IntegrationID is empty.
type SyncRequest struct {
	IntegrationID string
	// RunID names the billing-rule run syncing, if any; history entries
	// carry it.
	RunID string
}

// SyncError is a failure of one integration's sync.
type SyncError struct {
	IntegrationID string `json:"integrationId"`
	Code          string `json:"code"`
	Message       string `json:"message"`
}

// SyncResult counts what a sync saw and did.
type SyncResult struct {
	Integrations int `json:"integrations"`
	// Examined records were asked about; Changed moved, counted by their new
	// status in ByStatus.
	Examined int                        `json:"examined"`
	Changed  int                        `json:"changed"`
	ByStatus map[NegativationStatus]int `json:"byStatus"`
	Errors   []SyncError                `json:"errors"`
}

// syncBatch is how many references go in one status call.
const syncBatch = 50

// Sync asks the bureau about every pending record and every stale
// submitting, removing or unknown-outcome failed record, and moves each to
// what the bureau reports, appending to its history who (or which run)
// synced and the bureau's message. A submitting or failed record the bureau
// does not know is failed for sure (no longer live), ready to be retried.
//
// With an IntegrationID a bureau fault is returned; across all integrations
// each integration's fault is listed in the result and the others go on.
func (s *NegativationService) Sync(ctx context.Context, req SyncRequest) (SyncResult, error) {
	return s.sync(ctx, s.own(), req)
}

func (s *NegativationService) sync(ctx context.Context, d negativationDeps, req SyncRequest) (SyncResult, error) {
	res := SyncResult{ByStatus: map[NegativationStatus]int{}, Errors: []SyncError{}}
	if req.IntegrationID != "" && !ValidID(req.IntegrationID) {
		var fe FieldErrors
		fe.Add("integrationId", "identificador inválido")
		return res, fe.Err()
	}
	if req.RunID != "" && !ValidID(req.RunID) {
		var fe FieldErrors
		fe.Add("runId", "identificador inválido")
		return res, fe.Err()
	}
	if err := RequireEnabled(ctx, d.params); err != nil {
		return res, err
	}
	if req.IntegrationID != "" {
		i, err := d.integrations.GetIntegration(ctx, req.IntegrationID)
		if err != nil {
			return res, err
		}
		res.Integrations = 1
		return res, s.syncIntegration(ctx, d, i, req.RunID, &res)
	}
	cursor := ""
	for {
		page, next, err := d.integrations.ListIntegrations(ctx, Page{Limit: MaxPageLimit, Cursor: cursor})
		if err != nil {
			return res, err
		}
		for _, i := range page {
			res.Integrations++
			if err := s.syncIntegration(ctx, d, i, req.RunID, &res); err != nil {
				if ErrorKind(err) == KindInternal {
					return res, err
				}
				res.Errors = append(res.Errors, SyncError{IntegrationID: i.ID, Code: ErrorCode(err), Message: ErrorMessage(err)})
			}
		}
		if next == "" {
			return res, nil
		}
		cursor = next
	}
}

func (s *NegativationService) syncIntegration(ctx context.Context, d negativationDeps, i Integration, runID string, res *SyncResult) error {
	now := s.now()
	var todo []Negativation
	for _, st := range []NegativationStatus{NegativationPending, NegativationSubmitting, NegativationFailed, NegativationRemoving} {
		err := s.each(ctx, NegativationFilter{IntegrationID: i.ID, Status: st}, func(n Negativation) {
			switch {
			case n.Status == NegativationPending,
				n.Status == NegativationFailed && n.OutcomeUnknown && n.stale(now),
				(n.Status == NegativationSubmitting || n.Status == NegativationRemoving) && n.stale(now):
				todo = append(todo, n)
			}
		})
		if err != nil {
			return err
		}
	}
	if len(todo) == 0 {
		return nil
	}
	if _, err := d.bureau.Account(ctx, i); err != nil {
		return err
	}
	actor := who(ctx)
	for batch := range slices.Chunk(todo, syncBatch) {
		refs := make([]string, len(batch))
		for k, n := range batch {
			refs[k] = n.ID
		}
		recs, err := d.bureau.Status(ctx, i, refs)
		if err != nil {
			return err
		}
		known := make(map[string]BureauRecord, len(recs))
		for _, r := range recs {
			known[r.Reference] = r
		}
		for _, n := range batch {
			res.Examined++
			rec, found := known[n.ID]
			changed := false
			updated, err := s.Store.UpdateNegativation(ctx, n.ID, func(cur *Negativation) error {
				changed = resolve(cur, rec, found, s.now(), actor, runID)
				if !changed {
					return ErrNoChange
				}
				cur.UpdatedAt = s.now()
				return nil
			})
			if err != nil {
				return err
			}
			if changed {
				res.Changed++
				res.ByStatus[updated.Status]++
			}
		}
	}
	return nil
}

// resolve applies what the bureau knows about n (rec, when found); false
// when nothing changes.
func resolve(n *Negativation, rec BureauRecord, found bool, now time.Time, by Actor, runID string) bool {
	switch {
	case n.Status == NegativationPending:
		return found && applyBureauRecord(n, rec, now, by, runID)
	case n.Status == NegativationSubmitting && n.stale(now), n.Status == NegativationFailed && n.OutcomeUnknown:
		if found {
			return applyBureauRecord(n, rec, now, by, runID)
		}
		if n.Status == NegativationFailed && !n.stale(now) {
			return false
		}
		// The bureau never received it: nothing is registered, and a retry
		// may send it again.
		n.Status, n.OutcomeUnknown = NegativationFailed, false
		n.LastError = &NegativationError{Code: CodeBureauRecordNotFound, Message: "O bureau não recebeu a inclusão."}
		n.record(NegativationEvent{Status: NegativationFailed, At: now, By: by, RunID: runID, ErrorCode: CodeBureauRecordNotFound,
			Message: "O bureau não recebeu a inclusão; ela pode ser enviada novamente."})
		return true
	case n.Status == NegativationRemoving && n.stale(now):
		if !found {
			return false
		}
		if rec.Status == BureauRecordPending || rec.Status == BureauRecordActive {
			// The removal never arrived: back to what the bureau holds.
			n.Status = NegativationPending
			if rec.Status == BureauRecordActive {
				n.Status = NegativationActive
			}
			n.record(NegativationEvent{Status: n.Status, At: now, By: by, RunID: runID,
				Message: "A baixa não foi confirmada pelo bureau; a negativação continua registrada."})
			return true
		}
		return applyBureauRecord(n, rec, now, by, runID)
	}
	return false
}

// each calls fn for every record matching f, page by page.
func (s *NegativationService) each(ctx context.Context, f NegativationFilter, fn func(Negativation)) error {
	cursor := ""
	for {
		page, next, err := s.Store.ListNegativations(ctx, f, Page{Limit: MaxPageLimit, Cursor: cursor})
		if err != nil {
			return err
		}
		for _, n := range page {
			fn(n)
		}
		if next == "" {
			return nil
		}
		cursor = next
	}
}

// Get returns one record.
func (s *NegativationService) Get(ctx context.Context, id string) (Negativation, error) {
	return s.Store.GetNegativation(ctx, id)
}

// List returns one page of the records matching f, newest first.
func (s *NegativationService) List(ctx context.Context, f NegativationFilter, p Page) ([]Negativation, string, error) {
	if err := f.Validate(); err != nil {
		return nil, "", err
	}
	return s.Store.ListNegativations(ctx, f, p.Normalized())
}

// ListByCustomer returns one page of a customer's records, newest first.
func (s *NegativationService) ListByCustomer(ctx context.Context, customerID string, p Page) ([]Negativation, string, error) {
	if _, err := s.Parties.GetParty(ctx, PartyCustomer, customerID); err != nil {
		return nil, "", notFoundAs(err, "Cliente")
	}
	return s.Store.ListNegativations(ctx, NegativationFilter{CustomerID: customerID}, p.Normalized())
}

// PendingRemoval is a record still registered although its invoice is paid
// or cancelled: the collector must remove it within
// RemovalDeadlineBusinessDays business days of SettledOn (STJ Súmula 548).
type PendingRemoval struct {
	Negativation  Negativation
	InvoiceStatus InvoiceStatus
	SettledOn     Date
	// BusinessDaysElapsed counts the business days since SettledOn, today
	// included.
	BusinessDaysElapsed int
	// Deadline is the last business day of the term; Late is true past it.
	Deadline Date
	Late     bool
}

// PendingRemovals lists the live records whose invoice is paid or
// cancelled, of one integration or all, oldest payment first.
func (s *NegativationService) PendingRemovals(ctx context.Context, integrationID string) ([]PendingRemoval, error) {
	if integrationID != "" && !ValidID(integrationID) {
		var fe FieldErrors
		fe.Add("integrationId", "identificador inválido")
		return nil, fe.Err()
	}
	settled, err := s.Store.ListSettledNegativations(ctx, integrationID)
	if err != nil {
		return nil, err
	}
	today := DateOf(s.now(), SaoPaulo)
	out := make([]PendingRemoval, 0, len(settled))
	for _, sn := range settled {
		on := sn.Invoice.SettledOn
		if on.IsZero() {
			on = DateOf(sn.Invoice.UpdatedAt, SaoPaulo)
		}
		deadline := AddBusinessDays(on, RemovalDeadlineBusinessDays)
		out = append(out, PendingRemoval{
			Negativation: sn.Negativation, InvoiceStatus: sn.Invoice.Status, SettledOn: on,
			BusinessDaysElapsed: BusinessDaysBetween(on, today), Deadline: deadline, Late: today.After(deadline),
		})
	}
	slices.SortFunc(out, func(a, b PendingRemoval) int {
		return cmp.Or(a.SettledOn.Compare(b.SettledOn), a.Negativation.CreatedAt.Compare(b.Negativation.CreatedAt),
			strings.Compare(a.Negativation.ID, b.Negativation.ID))
	})
	return out, nil
}

// now is truncated to the millisecond, the precision the stores keep, so
// that an answer equals the record read back.
func (s *NegativationService) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC().Truncate(time.Millisecond)
	}
	return time.Now().UTC().Truncate(time.Millisecond)
}

// who is the caller as recorded on a negativation: identity only, not the
// roles of the moment.
func who(ctx context.Context) Actor {
	a, _ := ActorFrom(ctx)
	return Actor{Subject: a.Subject, Name: a.Name}
}

func (s *NegativationService) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}
