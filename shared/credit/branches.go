package credit

import "context"

// Users kept to their branches: what every service checks beyond the
// stores' branch-keyed lists.

// visible reads a consultation the caller may see: one of another branch
// is not_found.
func (s *ConsultationService) visible(ctx context.Context, id string) (Consultation, error) {
	c, err := s.Store.GetConsultation(ctx, id)
	if err != nil {
		return c, err
	}
	if err := seeBranch(ctx, c.BranchID, "Consulta"); err != nil {
		return Consultation{}, err
	}
	return c, nil
}

// visibleParty is nil when the party exists and the caller may see it;
// not_found otherwise.
func visibleParty(ctx context.Context, parties interface {
	GetParty(ctx context.Context, kind PartyKind, id string) (Party, error)
}, ref PartyRef) error {
	p, err := parties.GetParty(ctx, ref.Kind, ref.ID)
	if err != nil {
		return err
	}
	return seeBranch(ctx, p.BranchID, "Cadastro")
}

// keptToBranches leaves in each run only the details of the caller's
// branches: the errors and the position of their integrations (an
// integration deleted since has no branch to show it in). The counts are
// the run's whole.
func (r *BillingRule) keptToBranches(ctx context.Context, runs []BillingRun) ([]BillingRun, error) {
	kept := BranchesOf(ctx)
	if kept.All() {
		return runs, nil
	}
	allowed := map[string]bool{}
	may := func(integrationID string) (bool, error) {
		if ok, seen := allowed[integrationID]; seen {
			return ok, nil
		}
		i, err := r.Negativations.Integrations.GetIntegration(ctx, integrationID)
		switch {
		case err == nil:
			allowed[integrationID] = kept.Allows(i.BranchID)
		case ErrorKind(err) == KindNotFound:
			allowed[integrationID] = false
		default:
			return false, err
		}
		return allowed[integrationID], nil
	}
	out := make([]BillingRun, len(runs))
	for k, run := range runs {
		var errs []BillingRunError
		for _, e := range run.Errors {
			if e.IntegrationID == "" { // the run's own, of no branch
				errs = append(errs, e)
				continue
			}
			ok, err := may(e.IntegrationID)
			if err != nil {
				return nil, err
			}
			if ok {
				errs = append(errs, e)
			}
		}
		pos := BillingPosition{}
		for _, id := range run.Position.Done {
			ok, err := may(id)
			if err != nil {
				return nil, err
			}
			if ok {
				pos.Done = append(pos.Done, id)
			}
		}
		for _, ip := range run.Position.Partial {
			ok, err := may(ip.IntegrationID)
			if err != nil {
				return nil, err
			}
			if ok {
				pos.Partial = append(pos.Partial, ip)
			}
		}
		run.Errors, run.Position = errs, pos
		out[k] = run
	}
	return out, nil
}
