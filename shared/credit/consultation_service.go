package credit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// ReportURLTTL is how long a report's download link works: long enough to
// open it, short enough that a leaked link is soon useless.
const ReportURLTTL = 5 * time.Minute

// documentLockTTL outlives any request (API Gateway gives up after 30 s), so
// the mark only lingers when a function died mid-consultation.
const documentLockTTL = 90 * time.Second

// ConsultationService runs credit consultations ("Central de consultas").
type ConsultationService struct {
	Parameters   ParametersStore
	Integrations *IntegrationService
	// Reads keeps the parameters and the branches' integrations in a warm
	// container for its TTL; nil reads them for every consultation.
	Reads   *ConsultationReads
	Parties PartyStore
	Store   ConsultationStore
	Bureau  *BureauAccess
	Reports ReportStore
	// Archive keeps the full reports out of the table; without it the
	// record holds its report.
	Archive  ReportArchive
	Renderer ReportRenderer
	// ReportRetention is how long a consultation's report, raw answer and
	// PDF are kept; afterwards only the minimal record is shown and the PDF
	// answers report_expired. Zero keeps reports with their record.
	ReportRetention time.Duration
	Now             Clock
	NewID           func() string
	Log             *slog.Logger
}

// ConsultationRequest is what a caller asks: a registered party, or a
// document with its branch (and UF for a CPF); optionally the plan and the
// confirmation to consult again inside the interval.
type ConsultationRequest struct {
	Party         *PartyRef
	Document      string
	BranchID      string
	UF            string
	Plan          string
	ConfirmRepeat bool
}

// ConsultationOutcome is a recorded success. Its PDF is made on the first
// download (ReportURL).
type ConsultationOutcome struct {
	Consultation Consultation
}

// consultationTarget is a request resolved to what the bureau is asked.
type consultationTarget struct {
	document   Document
	branchID   string
	uf         string
	cep, phone string
	party      *PartyRef
	plan       Plan
}

// validate checks the request's shape in this order: structure
// (validation_failed naming every field), the document (invalid_document),
// the UF of a CPF (uf_required), the plan's name (invalid_plan).
func (r ConsultationRequest) validate() (consultationTarget, error) {
	var fe FieldErrors
	var t consultationTarget
	if r.Party != nil {
		if !r.Party.Kind.Valid() {
			fe.Add("party.kind", `deve ser "customer", "lead" ou "prospect"`)
		}
		if !ValidIdentifier(r.Party.ID) {
			fe.Add("party.id", "identificador inválido")
		}
		for field, v := range map[string]string{"document": r.Document, "branchId": r.BranchID, "uf": r.UF} {
			if v != "" {
				fe.Add(field, "não se aplica à consulta por cadastro: o documento, a filial e a UF vêm do cadastro")
			}
		}
	} else {
		if strings.TrimSpace(r.Document) == "" {
			fe.Add("document", "obrigatório: informe party ou document")
		}
		if !ValidBranchID(r.BranchID) {
			fe.Add("branchId", "obrigatório; letras, números, ponto, hífen ou sublinhado, até 64 caracteres")
		}
	}
	if err := fe.Err(); err != nil {
		return t, err
	}
	if r.Party != nil {
		ref := *r.Party
		t.party = &ref
	} else {
		doc, err := ParseDocument(r.Document)
		if err != nil {
			return t, NewError(KindInvalid, CodeInvalidDocument, "CPF/CNPJ inválido.").WithDetails(map[string]any{"field": "document"})
		}
		t.document, t.branchID = doc, r.BranchID
		t.uf = strings.ToUpper(strings.TrimSpace(r.UF))
		if err := checkUF(doc, t.uf, "uf"); err != nil {
			return t, err
		}
	}
	if r.Plan != "" {
		t.plan = Plan(r.Plan)
		if !t.plan.Consultable() {
			return t, Errorf(KindInvalid, CodeInvalidPlan, "Plano %q inválido: escolha Indicador de negativos, Crednet Top ou Relatório + Score.", r.Plan).
				WithDetails(map[string]any{"plan": r.Plan})
		}
	}
	return t, nil
}

// checkUF requires a valid UF for a CPF (the bureau locates people by state)
// and refuses an invalid one for anybody.
func checkUF(doc Document, uf, field string) error {
	switch {
	case uf == "" && doc.Kind() == CPF:
		msg := "A UF é obrigatória para consultar um CPF."
		if field != "uf" {
			msg = "A UF é obrigatória para consultar um CPF: preencha a UF no endereço do cadastro."
		}
		return NewError(KindInvalid, CodeUFRequired, msg).WithDetails(map[string]any{"field": field})
	case uf != "" && !ValidUF(uf):
		return Errorf(KindInvalid, CodeUFRequired, "UF %q inválida: informe a sigla de um estado brasileiro.", uf).WithDetails(map[string]any{"field": field})
	}
	return nil
}

// Consult runs one consultation. The checks run in this order, each before
// anything is charged: the master switch (credit_analysis_disabled), the
// request (validation_failed, invalid_document, uf_required, invalid_plan),
// the party (not_found), the branch's integration
// (branch_without_integration), the plan (plan_required, invalid_plan
// against the plans the account offers), another consultation of the
// document in progress (consultation_in_progress, whatever the interval),
// the interval (repeat_consultation). Then the bureau is called once; its answer,
// success or failure, is recorded. A failure answers the bureau's error
// (bureau_unavailable 502, bureau_rejected 422, ...) with the recorded
// consultation's id in details.consultationId.
func (s *ConsultationService) Consult(ctx context.Context, req ConsultationRequest) (ConsultationOutcome, error) {
	// The parameters, the party and the branch's integration are read at
	// once where one does not need another, each through the warm
	// container's cache (Reads); the parameters once per consultation.
	waitParams := async(func() (Parameters, error) { return s.Reads.Parameters(ctx, s.Parameters) })
	t, verr := req.validate()
	var waitParty func() (Party, error)
	var waitInteg func() (Integration, error)
	switch {
	case verr != nil:
	case t.party != nil:
		waitParty = async(func() (Party, error) { return s.Parties.GetParty(ctx, t.party.Kind, t.party.ID) })
	default:
		waitInteg = async(func() (Integration, error) { return s.Reads.Integration(ctx, s.Integrations, t.branchID) })
	}
	params, err := waitParams()
	if err != nil {
		return ConsultationOutcome{}, err
	}
	if err := params.requireEnabled(); err != nil {
		return ConsultationOutcome{}, err
	}
	if verr != nil {
		return ConsultationOutcome{}, verr
	}
	if waitParty != nil {
		p, err := waitParty()
		if err != nil {
			return ConsultationOutcome{}, err
		}
		t.document, t.branchID, t.uf = p.Document, p.BranchID, p.Address.UF
		t.cep, t.phone = p.Address.CEP, p.MobilePhone
		if err := checkUF(p.Document, t.uf, "party.address.uf"); err != nil {
			return ConsultationOutcome{}, err
		}
		waitInteg = func() (Integration, error) { return s.Reads.Integration(ctx, s.Integrations, t.branchID) }
	}
	if err := AllowBranch(ctx, t.branchID); err != nil {
		return ConsultationOutcome{}, err
	}
	integ, err := waitInteg()
	if ErrorKind(err) == KindNotFound {
		return ConsultationOutcome{}, ErrBranchWithoutIntegration(t.branchID)
	} else if err != nil {
		return ConsultationOutcome{}, err
	}
	var warnings []Warning
	if t.plan == "" {
		t.plan = integ.DefaultPlan
	}
	if t.plan == PlanAll || !t.plan.Consultable() {
		return ConsultationOutcome{}, NewError(KindInvalid, CodePlanRequired,
			"A integração da filial usa o plano Todos: escolha o plano desta consulta.").
			WithDetails(map[string]any{"integrationId": integ.ID})
	}
	if err := s.checkPlanOffered(ctx, integ, t.plan); err != nil {
		if ErrorCode(err) == CodeInvalidPlan {
			return ConsultationOutcome{}, err
		}
		// The bureau failed before the consultation: the center shows it too.
		return ConsultationOutcome{}, s.recordFailure(context.WithoutCancel(ctx), s.newConsultation(ctx, t, integ, nil), err)
	}
	if t.plan.Deprecated() {
		warnings = append(warnings, Warning{Code: WarningDeprecatedPlan, Message: DeprecatedPlanWarning(t.plan)})
	}

	// The mark serializes check, charge and record per document whatever
	// the interval, a confirmed repeat included, so a double click never
	// buys two reports.
	owner := randomHex(16)
	prev, found, err := s.Store.LockDocument(ctx, t.document, owner, documentLockTTL)
	if err != nil {
		return ConsultationOutcome{}, err
	}
	// A success releases the mark in the same write as its record.
	released := false
	defer func() {
		if released {
			return
		}
		if err := s.Store.UnlockDocument(context.WithoutCancel(ctx), t.document, owner); err != nil {
			s.log().WarnContext(ctx, "document mark not removed; it expires by itself", slog.String("document", t.document.Masked()), slog.String("error", err.Error()))
		}
	}()
	if days := params.RepeatConsultationIntervalDays; days > 0 {
		if found && prev.CreatedAt.After(s.Now.Now().Add(-time.Duration(days)*24*time.Hour)) {
			if !req.ConfirmRepeat {
				return ConsultationOutcome{}, errRepeatConsultation(t.document, prev, days, integ.Environment)
			}
			warnings = append(warnings, Warning{Code: WarningRepeatConfirmed, Message: fmt.Sprintf(
				"Nova consulta confirmada: o documento já havia sido consultado em %s (consulta %s).", formatSaoPaulo(prev.CreatedAt), prev.ID)})
		}
	}

	c := s.newConsultation(ctx, t, integ, warnings)
	report, cerr := s.Bureau.Consult(ctx, integ, ConsultQuery{Document: t.document, Plan: t.plan, UF: t.uf, CEP: t.cep, Phone: t.phone})
	// The bureau has answered (and may have charged): record it even when
	// the caller has gone.
	ctx = context.WithoutCancel(ctx)
	if cerr != nil {
		return ConsultationOutcome{}, s.recordFailure(ctx, c, cerr)
	}
	c.Status, c.Report, c.Overview = ConsultationSucceeded, &report, report.Overview()
	c.PDFKey, c.Protocol = newReportKey(c.CreatedAt), report.Protocol
	c, err = s.record(ctx, c, owner)
	if err != nil {
		return ConsultationOutcome{}, err
	}
	released = true
	s.log().InfoContext(ctx, "consultation recorded", slog.String("consultationId", c.ID), slog.String("status", string(c.Status)),
		slog.String("plan", string(c.Plan)), slog.String("environment", string(c.Environment)),
		slog.String("document", c.Document.Masked()), slog.String("protocol", report.Protocol))

	// The PDF is rendered and stored on its first download (ReportURL),
	// not before answering: most consultations are read on screen only.
	return ConsultationOutcome{Consultation: c}, nil
}

// record writes a consultation the bureau answered: the full report in the
// archive and, at the same time, the record pointing at it. It returns the
// consultation as answered.
//
// When the record fails, a record without the report (id, protocol,
// status, document) is tried, and the protocol is logged for
// reconciliation if even that fails; the bureau's charge is then answered
// as an error. When only the archive fails, the record is left without the
// report it would point at: the report is answered this once, with a
// warning that it was not kept. The full record releases owner's mark on
// the document in the same write; the one written after a failure does not.
func (s *ConsultationService) record(ctx context.Context, c Consultation, owner string) (Consultation, error) {
	rec := c
	archived := func() (struct{}, error) { return struct{}{}, nil }
	if s.Archive != nil {
		key := strings.TrimSuffix(c.PDFKey, ".pdf") + ".json.gz"
		archived = async(func() (struct{}, error) { return struct{}{}, s.Archive.PutReport(ctx, key, *c.Report) })
		rec.Report, rec.ReportKey = nil, key
	}
	err := s.Store.CreateConsultationUnlocking(ctx, rec, owner)
	_, aerr := archived()
	switch {
	case err != nil:
		s.log().ErrorContext(ctx, "consultation answered by the bureau but not recorded in full", slog.String("consultationId", c.ID),
			slog.String("protocol", c.Protocol), slog.String("document", c.Document.Masked()), slog.String("error", err.Error()))
		return c, s.recordMinimal(ctx, c, err)
	case aerr != nil:
		s.log().ErrorContext(ctx, "report not archived; the consultation is recorded without it", slog.String("consultationId", c.ID),
			slog.String("protocol", c.Protocol), slog.String("error", aerr.Error()))
		if err := s.Store.DropConsultationReport(ctx, rec); err != nil {
			s.log().ErrorContext(ctx, "consultation recorded with a report that was not archived", slog.String("consultationId", c.ID),
				slog.String("protocol", c.Protocol), slog.String("document", c.Document.Masked()), slog.String("error", err.Error()))
		}
		c.PDFKey = ""
		c.Warnings = append(c.Warnings, Warning{Code: WarningReportNotKept, Message: fmt.Sprintf(
			"O relatório está nesta resposta, mas não pôde ser guardado: depois dela não estará disponível, nem em PDF. A consulta foi registrada com o protocolo %s.", c.Protocol)})
	}
	return c, nil
}

// recordMinimal writes what reconciling a charged consultation needs and
// returns cause.
func (s *ConsultationService) recordMinimal(ctx context.Context, c Consultation, cause error) error {
	if err := s.Store.CreateConsultation(ctx, c.WithoutReport()); err != nil {
		s.log().ErrorContext(ctx, "consultation answered by the bureau and not recorded at all", slog.String("consultationId", c.ID),
			slog.String("protocol", c.Protocol), slog.String("document", c.Document.Masked()), slog.String("error", err.Error()))
	}
	return cause
}

// newConsultation is the record of a consultation about to be made, named
// on the call's audit event.
func (s *ConsultationService) newConsultation(ctx context.Context, t consultationTarget, integ Integration, warnings []Warning) Consultation {
	actor, _ := ActorFrom(ctx)
	c := Consultation{
		ID: s.NewID(), CreatedAt: s.Now.Now(), Document: t.document, UF: t.uf, Plan: t.plan,
		IntegrationID: integ.ID, BranchID: integ.BranchID, Environment: integ.Environment,
		Party: t.party, RequestedBy: Actor{Subject: actor.Subject, Name: actor.Name}, Warnings: warnings,
	}
	if s.ReportRetention > 0 {
		c.ReportExpiresAt = c.CreatedAt.Add(s.ReportRetention)
	}
	// The call's audit event names the record, success or failure.
	NameAuditTarget(ctx, "consultationId", c.ID)
	NameAuditTarget(ctx, "document", c.Document.Masked())
	return c
}

// retained is c as callers may see it now: the minimal record once its
// report has expired.
func (s *ConsultationService) retained(c Consultation) Consultation {
	if c.ReportExpired(s.Now.Now()) {
		return c.Minimal()
	}
	return c
}

func (s *ConsultationService) retainedAll(cs []Consultation) []Consultation {
	for i := range cs {
		cs[i] = s.retained(cs[i])
	}
	return cs
}

// checkPlanOffered refuses a plan the integration's account does not offer.
func (s *ConsultationService) checkPlanOffered(ctx context.Context, integ Integration, plan Plan) error {
	offered, err := s.Integrations.OfferedPlans(ctx, integ)
	if err != nil {
		return err
	}
	codes := make([]string, 0, len(offered))
	for _, p := range offered {
		if p.Plan == plan {
			return nil
		}
		codes = append(codes, string(p.Plan))
	}
	return Errorf(KindInvalid, CodeInvalidPlan, "O plano %s não está disponível na conta desta integração.", plan.Name()).
		WithDetails(map[string]any{"plan": string(plan), "offeredPlans": codes})
}

// errRepeatConsultation asks to confirm a repeat; only production charges
// for it (homologation consultations are free).
func errRepeatConsultation(doc Document, prev ConsultationRef, days int, env Environment) *Error {
	confirm := "Confirme para consultar novamente."
	if env == EnvironmentProduction {
		confirm = "Confirme para consultar novamente (a consulta será cobrada)."
	}
	return Errorf(KindConflict, CodeRepeatConsultation,
		"O documento %s já foi consultado em %s, há menos de %d dia(s). %s",
		doc.Masked(), formatSaoPaulo(prev.CreatedAt), days, confirm).
		WithDetails(map[string]any{
			"previousConsultationId": prev.ID,
			"previousAt":             prev.CreatedAt.UTC().Format(time.RFC3339),
			"intervalDays":           days,
		})
}

// recordFailure records a consultation the bureau did not answer and returns
// the bureau's error naming the record.
func (s *ConsultationService) recordFailure(ctx context.Context, c Consultation, cause error) error {
	c.Status, c.ErrorCode, c.ErrorMessage = ConsultationFailed, ErrorCode(cause), ErrorMessage(cause)
	level := slog.LevelWarn
	if ErrorKind(cause) == KindInternal {
		level = slog.LevelError
	}
	s.log().Log(ctx, level, "consultation failed at the bureau", slog.String("consultationId", c.ID),
		slog.String("code", c.ErrorCode), slog.String("document", c.Document.Masked()), slog.String("error", cause.Error()))
	if err := s.Store.CreateConsultation(ctx, c); err != nil {
		s.log().ErrorContext(ctx, "failed consultation not recorded", slog.String("consultationId", c.ID), slog.String("error", err.Error()))
		return cause
	}
	e, ok := AsError(cause)
	if !ok {
		return Internal(cause, "consult")
	}
	details := make(map[string]any, len(e.Details)+1)
	for k, v := range e.Details {
		details[k] = v
	}
	details["consultationId"] = c.ID
	return e.WithDetails(details)
}

func (s *ConsultationService) storePDF(ctx context.Context, c Consultation) error {
	pdf, err := s.Renderer.Render(ReportDocument{Consultation: c, GeneratedAt: s.Now.Now()})
	if err != nil {
		return err
	}
	return s.Reports.Put(ctx, c.PDFKey, pdf)
}

// Get returns one consultation with its report; past the report's
// retention, the minimal record without it.
func (s *ConsultationService) Get(ctx context.Context, id string) (Consultation, error) {
	c, err := s.visible(ctx, id)
	if err != nil {
		return c, err
	}
	if c.ReportExpired(s.Now.Now()) {
		return c.Minimal(), nil
	}
	return s.withReport(ctx, c)
}

// withReport reads an archived report into c.
func (s *ConsultationService) withReport(ctx context.Context, c Consultation) (Consultation, error) {
	if c.Report != nil || c.ReportKey == "" || s.Archive == nil {
		return c, nil
	}
	r, err := s.Archive.GetReport(ctx, c.ReportKey)
	if err != nil {
		return c, err
	}
	c.Report = &r
	return c, nil
}

// List is the consultation center: newest first, filtered.
func (s *ConsultationService) List(ctx context.Context, f ConsultationFilter, p Page) ([]Consultation, string, error) {
	var fe FieldErrors
	if !f.From.IsZero() && !f.To.IsZero() && f.To.Before(f.From) {
		fe.Add("to", "deve ser igual ou posterior a from")
	}
	if f.Plan != "" && !f.Plan.Consultable() {
		fe.Add("plan", `deve ser "negative_indicator", "crednet_top" ou "report_score"`)
	}
	if f.Status != "" && !f.Status.Valid() {
		fe.Add("status", `deve ser "succeeded" ou "failed"`)
	}
	if err := fe.Err(); err != nil {
		return nil, "", err
	}
	f.Branches = BranchesOf(ctx)
	cs, next, err := s.Store.ListConsultations(ctx, f, p.Normalized())
	return s.retainedAll(cs), next, err
}

// ListByParty lists the consultations made for a party (404 when the party
// does not exist).
func (s *ConsultationService) ListByParty(ctx context.Context, ref PartyRef, p Page) ([]Consultation, string, error) {
	if err := visibleParty(ctx, s.Parties, ref); err != nil {
		return nil, "", err
	}
	cs, next, err := s.Store.ListPartyConsultations(ctx, ref, p.Normalized())
	return s.retainedAll(cs), next, err
}

// ReportURL returns a link to the consultation's PDF that expires within
// ReportURLTTL. A PDF the bucket no longer holds (expired by its lifecycle,
// or never stored) is rendered again from the recorded report, until the
// report's retention ends: report_expired (410) then, never a new render;
// likewise once the report was erased at the holder's request, whose
// message says so. A failed consultation has no report: report_unavailable
// (404).
func (s *ConsultationService) ReportURL(ctx context.Context, id string) (PresignedURL, error) {
	c, err := s.visible(ctx, id)
	if err != nil {
		return PresignedURL{}, err
	}
	if c.Status == ConsultationSucceeded && !c.ReportErasedAt.IsZero() {
		return PresignedURL{}, Errorf(KindGone, CodeReportExpired,
			"O relatório desta consulta foi excluído em %s, a pedido do titular dos dados (LGPD); o registro da consulta continua disponível.",
			formatSaoPaulo(c.ReportErasedAt)).
			WithDetails(map[string]any{"consultationId": c.ID, "reportExpiresAt": c.ReportExpiresAt.UTC().Format(time.RFC3339),
				"reportErasedAt": c.ReportErasedAt.UTC().Format(time.RFC3339)})
	}
	if c.Status == ConsultationSucceeded && c.ReportExpired(s.Now.Now()) {
		return PresignedURL{}, Errorf(KindGone, CodeReportExpired,
			"O relatório desta consulta foi excluído em %s, ao fim do prazo de guarda; o registro da consulta continua disponível.",
			formatSaoPaulo(c.ReportExpiresAt)).
			WithDetails(map[string]any{"consultationId": c.ID, "reportExpiresAt": c.ReportExpiresAt.UTC().Format(time.RFC3339)})
	}
	if c.Status != ConsultationSucceeded {
		return PresignedURL{}, NewError(KindNotFound, CodeReportUnavailable, "Esta consulta não tem relatório: o bureau não a respondeu.").
			WithDetails(map[string]any{"consultationId": c.ID, "errorCode": c.ErrorCode})
	}
	if (c.Report == nil && c.ReportKey == "") || c.PDFKey == "" {
		return PresignedURL{}, Errorf(KindNotFound, CodeReportUnavailable,
			"O relatório desta consulta não pôde ser guardado quando o bureau respondeu; a consulta está registrada com o protocolo %s.", c.Protocol).
			WithDetails(map[string]any{"consultationId": c.ID, "protocol": c.Protocol})
	}
	exists, err := s.Reports.Exists(ctx, c.PDFKey)
	if err != nil {
		return PresignedURL{}, err
	}
	if !exists {
		if c, err = s.withReport(ctx, c); err != nil {
			return PresignedURL{}, err
		}
		if err := s.storePDF(ctx, c); err != nil {
			return PresignedURL{}, err
		}
	}
	url, exp, err := s.Reports.PresignGet(ctx, c.PDFKey, ReportURLTTL)
	if err != nil {
		return PresignedURL{}, err
	}
	return PresignedURL{URL: url, ExpiresAt: exp}, nil
}

// newReportKey names a PDF with 128 random bits, so that nobody can derive
// it from the document or the consultation; the month prefix only helps
// whoever looks at the bucket.
func newReportKey(at time.Time) string {
	return "reports/" + at.UTC().Format("2006/01") + "/" + randomHex(16) + ".pdf"
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand panics rather than return an error)
	return hex.EncodeToString(b)
}

// formatSaoPaulo writes an instant the way people in Brazil read it.
func formatSaoPaulo(t time.Time) string {
	return t.In(SaoPaulo()).Format("02/01/2006 às 15:04")
}

func (s *ConsultationService) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}
