package credit

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"
)

// IntegrationService configures the bureau per branch.
type IntegrationService struct {
	Store   IntegrationStore
	Secrets SecretStore
	// Bureau answers the plans, the codes and the connection test.
	Bureau *BureauAccess
	Now    Clock
	NewID  func() string
	Log    *slog.Logger

	// Offered, when set, caches each account's plans for PlansTTL: a
	// consultation checks its plan against them, and the list changes only
	// when the ISP's contract does. Copies of the service share it.
	Offered *PlanCache
}

// PlansTTL is how long an account's plans are trusted without asking the
// bureau again.
const PlansTTL = 10 * time.Minute

// PlanCache keeps accounts' plans; the zero value is ready to use.
type PlanCache struct {
	mu      sync.Mutex
	entries map[string]cachedPlans
}

type cachedPlans struct {
	plans []BureauPlan
	until time.Time
}

// NewIntegration is a create request: the settings and both passwords.
type NewIntegration struct {
	IntegrationSettings
	ConsultationPassword string
	PEFINPassword        string
}

// Create validates everything, stores the passwords in the secret store and
// then the record with the branch lock. When the branch turns out to be taken
// the fresh secret is scheduled for deletion, so nothing is left behind.
func (s *IntegrationService) Create(ctx context.Context, req NewIntegration) (Integration, error) {
	var fe FieldErrors
	cpf := req.validate(&fe)
	for field, pw := range map[string]string{"consultationPassword": req.ConsultationPassword, "pefinPassword": req.PEFINPassword} {
		if pw == "" || len(pw) > 128 {
			fe.Add(field, "obrigatória, até 128 caracteres")
		}
	}
	if err := fe.Err(); err != nil {
		return Integration{}, err
	}
	if err := AllowBranch(ctx, req.BranchID); err != nil {
		return Integration{}, err
	}
	// A cheap early answer for the common case; the store's transaction is
	// what actually guarantees one integration per branch.
	if _, err := s.Store.GetIntegrationByBranch(ctx, req.BranchID); err == nil {
		return Integration{}, ErrBranchAlreadyIntegrated(req.BranchID)
	} else if ErrorKind(err) != KindNotFound {
		return Integration{}, err
	}

	now := s.Now.Now()
	actor, _ := ActorFrom(ctx)
	i := Integration{ID: s.NewID(), CreatedAt: now, UpdatedAt: now, CreatedBy: actor, UpdatedBy: actor, Version: 1}
	req.apply(&i, cpf)
	ref, err := s.Secrets.Create(ctx, i.ID, IntegrationSecrets{ConsultationPassword: req.ConsultationPassword, PEFINPassword: req.PEFINPassword})
	if err != nil {
		return Integration{}, err
	}
	i.SecretRef = ref
	if err := s.Store.CreateIntegration(ctx, i); err != nil {
		if derr := s.Secrets.ScheduleDeletion(context.WithoutCancel(ctx), ref); derr != nil {
			s.log().ErrorContext(ctx, "orphan secret left after a refused create", slog.String("integrationId", i.ID), slog.String("error", derr.Error()))
		}
		return Integration{}, err
	}
	return i, nil
}

// Get returns an integration the caller may see: one of another branch is
// not_found.
func (s *IntegrationService) Get(ctx context.Context, id string) (Integration, error) {
	i, err := s.Store.GetIntegration(ctx, id)
	if err != nil {
		return Integration{}, err
	}
	if err := seeBranch(ctx, i.BranchID, "Integração"); err != nil {
		return Integration{}, err
	}
	return i, nil
}

func (s *IntegrationService) GetByBranch(ctx context.Context, branchID string) (Integration, error) {
	if err := seeBranch(ctx, branchID, "Integração da filial"); err != nil {
		return Integration{}, err
	}
	return s.Store.GetIntegrationByBranch(ctx, branchID)
}

// List returns the integrations of the caller's branches.
func (s *IntegrationService) List(ctx context.Context, p Page) ([]Integration, string, error) {
	return s.Store.ListIntegrations(ctx, BranchesOf(ctx), p.Normalized())
}

// actOn returns the integration the caller acts on: acting on another
// branch's integration is branch_not_allowed (403).
func (s *IntegrationService) actOn(ctx context.Context, id string) (Integration, error) {
	i, err := s.Store.GetIntegration(ctx, id)
	if err != nil {
		return Integration{}, err
	}
	if err := AllowBranch(ctx, i.BranchID); err != nil {
		return Integration{}, err
	}
	return i, nil
}

// mayChange refuses a change of an integration of another branch, or onto
// another branch: branch_not_allowed.
func mayChange(ctx context.Context, from, to string) error {
	if err := AllowBranch(ctx, from); err != nil {
		return err
	}
	return AllowBranch(ctx, to)
}

// Update replaces the non-secret settings; moving to another branch obeys
// the one-per-branch rule. The stored responsible CPF, masked as a read
// shows it, keeps that CPF.
func (s *IntegrationService) Update(ctx context.Context, id string, set IntegrationSettings) (Integration, error) {
	actor, _ := ActorFrom(ctx)
	return s.Store.UpdateIntegration(ctx, id, func(i *Integration) error {
		if err := mayChange(ctx, i.BranchID, set.BranchID); err != nil {
			return err
		}
		return s.change(i, set, actor)
	})
}

// Patch changes only the settings p gives, over the record as it is when
// written, then checks the result as Update does: the same validation, the
// same optimistic concurrency, branch rule and account guard of the store.
func (s *IntegrationService) Patch(ctx context.Context, id string, p IntegrationPatch) (Integration, error) {
	var fe FieldErrors
	p.checkRemoved(&fe)
	if err := fe.Err(); err != nil {
		return Integration{}, err
	}
	actor, _ := ActorFrom(ctx)
	return s.Store.UpdateIntegration(ctx, id, func(i *Integration) error {
		set := p.over(i.settings())
		if err := mayChange(ctx, i.BranchID, set.BranchID); err != nil {
			return err
		}
		return s.change(i, set, actor)
	})
}

// change validates set against the stored record i and applies it; an error
// aborts the store's update, so nothing is written.
func (s *IntegrationService) change(i *Integration, set IntegrationSettings, actor Actor) error {
	var fe FieldErrors
	cpf := set.validateKeeping(&fe, i.ResponsibleCPF)
	if err := fe.Err(); err != nil {
		return err
	}
	set.apply(i, cpf)
	i.UpdatedAt = s.Now.Now()
	i.UpdatedBy = actor
	return nil
}

// Delete removes the integration (refused while it has live negativations)
// and schedules the deletion of its secret.
func (s *IntegrationService) Delete(ctx context.Context, id string) error {
	if _, err := s.actOn(ctx, id); err != nil {
		return err
	}
	i, err := s.Store.DeleteIntegration(ctx, id)
	if err != nil {
		return err
	}
	if err := s.Secrets.ScheduleDeletion(context.WithoutCancel(ctx), i.SecretRef); err != nil && ErrorKind(err) != KindNotFound {
		// The record is gone; the secret waits for the operator. Say so loudly.
		s.log().ErrorContext(ctx, "secret deletion not scheduled", slog.String("integrationId", i.ID), slog.String("error", err.Error()))
	}
	return nil
}

// OfferedPlans is the account's plans, from the bureau at most once per
// PlansTTL per account.
func (s *IntegrationService) OfferedPlans(ctx context.Context, i Integration) ([]BureauPlan, error) {
	key := string(i.Environment) + "\x00" + i.Login
	now := s.Now.Now()
	if c := s.Offered; c != nil {
		c.mu.Lock()
		e, ok := c.entries[key]
		c.mu.Unlock()
		if ok && now.Before(e.until) {
			return e.plans, nil
		}
	}
	plans, err := s.Bureau.Plans(ctx, i)
	if err != nil {
		return nil, err
	}
	if c := s.Offered; c != nil {
		c.mu.Lock()
		if c.entries == nil {
			c.entries = map[string]cachedPlans{}
		}
		c.entries[key] = cachedPlans{plans: plans, until: now.Add(PlansTTL)}
		c.mu.Unlock()
	}
	return plans, nil
}

// PlanInfo is a plan the integration's account offers, as shown to callers.
type PlanInfo struct {
	Code           Plan
	Name           string
	ProductCode    string
	Deprecated     bool
	Recommendation string
}

// Plans lists the plans the account offers, from the bureau.
func (s *IntegrationService) Plans(ctx context.Context, id string) ([]PlanInfo, error) {
	i, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	plans, err := s.Bureau.Plans(ctx, i)
	if err != nil {
		return nil, err
	}
	out := make([]PlanInfo, 0, len(plans))
	for _, p := range plans {
		out = append(out, PlanInfo{Code: p.Plan, Name: p.Plan.Name(), ProductCode: p.ProductCode, Deprecated: p.Plan.Deprecated(), Recommendation: p.Plan.Recommendation()})
	}
	return out, nil
}

// RestrictionCodes lists the bureau's restriction codes for the account.
func (s *IntegrationService) RestrictionCodes(ctx context.Context, id string) ([]BureauCode, error) {
	return s.codes(ctx, id, s.Bureau.RestrictionCodes)
}

// RemovalCodes lists the bureau's removal codes for the account.
func (s *IntegrationService) RemovalCodes(ctx context.Context, id string) ([]BureauCode, error) {
	return s.codes(ctx, id, s.Bureau.RemovalCodes)
}

func (s *IntegrationService) codes(ctx context.Context, id string, list func(context.Context, Integration) ([]BureauCode, error)) ([]BureauCode, error) {
	i, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	return list(ctx, i)
}

// ConnectionTest is the answer of "Testar": whether the bureau accepts the
// stored credentials right now.
type ConnectionTest struct {
	OK           bool
	LatencyMs    int64
	Message      string
	Consultation bool
	PEFIN        bool
}

// TestConnection calls the bureau's cheap credential check with the
// credentials as the secret store holds them now (past any cache: the test
// must tell the truth). A bureau fault is part of the answer (ok false, with
// the reason), not an error.
func (s *IntegrationService) TestConnection(ctx context.Context, id string) (ConnectionTest, error) {
	i, err := s.actOn(ctx, id)
	if err != nil {
		return ConnectionTest{}, err
	}
	acct, err := s.Bureau.StoredAccount(ctx, i)
	if err != nil {
		return ConnectionTest{}, err
	}
	start := s.Now.Now()
	check, err := s.Bureau.CheckCredentials(ctx, acct)
	t := ConnectionTest{LatencyMs: s.Now.Now().Sub(start).Milliseconds(), Consultation: check.Consultation, PEFIN: check.PEFIN}
	var de *Error
	switch {
	case err == nil && check.Consultation && check.PEFIN:
		t.OK, t.Message = true, "Conexão estabelecida: as senhas de consulta e PEFIN foram aceitas."
	case err == nil && !check.Consultation && !check.PEFIN:
		t.Message = "O parceiro recusou as senhas de consulta e PEFIN."
	case err == nil && !check.Consultation:
		t.Message = "O parceiro recusou a senha de consulta."
	case err == nil:
		t.Message = "O parceiro recusou a senha PEFIN."
	case errors.As(err, &de) && de.Kind != KindInternal:
		t.Message = de.Message
	default:
		return ConnectionTest{}, err
	}
	return t, nil
}

func (s *IntegrationService) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}
