package memory

import (
	"context"
	"sort"

	"creditanalysis/shared/credit"
)

var _ credit.IntegrationStore = (*Store)(nil)

func (s *Store) CreateIntegration(ctx context.Context, i credit.Integration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.init()
	if _, taken := s.branches[i.BranchID]; taken {
		return credit.ErrBranchAlreadyIntegrated(i.BranchID)
	}
	s.integrations[i.ID] = i
	s.branches[i.BranchID] = i.ID
	return nil
}

func (s *Store) GetIntegration(ctx context.Context, id string) (credit.Integration, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.integrations[id]
	if !ok {
		return credit.Integration{}, credit.NotFound("Integração")
	}
	return i, nil
}

func (s *Store) GetIntegrationByBranch(ctx context.Context, branchID string) (credit.Integration, error) {
	s.mu.Lock()
	id, ok := s.branches[branchID]
	s.mu.Unlock()
	if !ok {
		return credit.Integration{}, credit.NotFound("Integração da filial")
	}
	return s.GetIntegration(ctx, id)
}

func (s *Store) ListIntegrations(ctx context.Context, branches credit.Branches, p credit.Page) ([]credit.Integration, string, error) {
	s.mu.Lock()
	all := make([]credit.Integration, 0, len(s.integrations))
	for _, i := range s.integrations {
		if branches.Allows(i.BranchID) {
			all = append(all, i)
		}
	}
	s.mu.Unlock()
	sort.Slice(all, func(a, b int) bool {
		if !all[a].CreatedAt.Equal(all[b].CreatedAt) {
			return all[a].CreatedAt.Before(all[b].CreatedAt)
		}
		return all[a].ID < all[b].ID
	})
	return scopedPage(all, branches, p)
}

func (s *Store) UpdateIntegration(ctx context.Context, id string, fn func(*credit.Integration) error) (credit.Integration, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.integrations[id]
	if !ok {
		return credit.Integration{}, credit.NotFound("Integração")
	}
	next := cur
	if err := fn(&next); err != nil {
		return credit.Integration{}, err
	}
	next.ID, next.SecretRef, next.CreatedAt, next.CreatedBy = cur.ID, cur.SecretRef, cur.CreatedAt, cur.CreatedBy
	next.Version = cur.Version + 1
	if n := s.liveNegativations[id]; n > 0 && !next.SameAccount(cur) {
		return credit.Integration{}, credit.ErrIntegrationAccountInUse(int64(n))
	}
	if next.BranchID != cur.BranchID {
		if _, taken := s.branches[next.BranchID]; taken {
			return credit.Integration{}, credit.ErrBranchAlreadyIntegrated(next.BranchID)
		}
		delete(s.branches, cur.BranchID)
		s.branches[next.BranchID] = id
	}
	s.integrations[id] = next
	return next, nil
}

func (s *Store) DeleteIntegration(ctx context.Context, id string) (credit.Integration, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.integrations[id]
	if !ok {
		return credit.Integration{}, credit.NotFound("Integração")
	}
	if n := s.liveNegativations[id]; n > 0 {
		return credit.Integration{}, credit.ErrIntegrationHasActiveNegativations.WithDetails(map[string]any{"liveNegativations": n})
	}
	delete(s.integrations, id)
	delete(s.branches, cur.BranchID)
	return cur, nil
}
