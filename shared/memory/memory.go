// Package memory is the in-memory adapter of the domain's store ports: the
// hand-written fake for the domain's unit tests. It passes the same contract
// suites as the DynamoDB adapter.
package memory

import (
	"context"
	"sync"

	"creditanalysis/shared/credit"
)

// Store keeps everything in maps behind one mutex.
type Store struct {
	mu         sync.Mutex
	parameters credit.Parameters
}

func New() *Store { return &Store{} }

var _ credit.ParametersStore = (*Store)(nil)

func (s *Store) GetParameters(ctx context.Context) (credit.Parameters, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.parameters, nil
}

func (s *Store) PutParameters(ctx context.Context, p credit.Parameters) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.parameters = p
	return nil
}
