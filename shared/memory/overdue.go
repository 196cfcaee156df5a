package memory

import (
	"context"
	"sync"

	"creditanalysis/shared/credit"
)

var _ credit.OverdueRemovalStore = (*OverdueRemovals)(nil)

// OverdueRemovals records overdue removals in a map, once per negativation.
type OverdueRemovals struct {
	mu       sync.Mutex
	Recorded map[string]credit.RemovalOverdue
}

func (s *OverdueRemovals) RecordRemovalOverdue(_ context.Context, o credit.RemovalOverdue) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.Recorded[o.NegativationID]; ok {
		return false, nil
	}
	if s.Recorded == nil {
		s.Recorded = map[string]credit.RemovalOverdue{}
	}
	s.Recorded[o.NegativationID] = o
	return true, nil
}
