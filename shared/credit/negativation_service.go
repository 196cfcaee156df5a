package credit

import (
	"context"
	"log/slog"
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
	Now          Clock
	NewID        func() string
	Log          *slog.Logger
}

// negativationDeps are what an operation reads and calls through: the
// service's own, or a billing-rule run's wrapping of them (its throttle on
// the bureau, its short-lived caches of the master switch and the
// integrations, its log naming the integration; the context names the run).
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

// Get returns one record.
func (s *NegativationService) Get(ctx context.Context, id string) (Negativation, error) {
	n, err := s.Store.GetNegativation(ctx, id)
	if err != nil {
		return Negativation{}, err
	}
	if err := seeBranch(ctx, n.BranchID, "Negativação"); err != nil {
		return Negativation{}, err
	}
	return n, nil
}

// List returns one page of the records matching f, newest first.
func (s *NegativationService) List(ctx context.Context, f NegativationFilter, p Page) ([]Negativation, string, error) {
	if err := f.Validate(); err != nil {
		return nil, "", err
	}
	f.Branches = BranchesOf(ctx)
	return s.Store.ListNegativations(ctx, f, p.Normalized())
}

// ListByCustomer returns one page of a customer's records, newest first.
func (s *NegativationService) ListByCustomer(ctx context.Context, customerID string, p Page) ([]Negativation, string, error) {
	c, err := s.Parties.GetParty(ctx, PartyCustomer, customerID)
	if err != nil {
		return nil, "", notFoundAs(err, "Cliente")
	}
	if err := seeBranch(ctx, c.BranchID, "Cliente"); err != nil {
		return nil, "", err
	}
	return s.Store.ListNegativations(ctx, NegativationFilter{CustomerID: customerID, Branches: BranchesOf(ctx)}, p.Normalized())
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
