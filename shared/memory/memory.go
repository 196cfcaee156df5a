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
	mu                sync.Mutex
	parameters        credit.Parameters
	integrations      map[string]credit.Integration
	branches          map[string]string // branch -> integration id
	liveNegativations map[string]int    // integration id -> live negativations (credit.Negativation.Live)
	parties           map[string]credit.Party
	invoices          map[string]map[string]credit.Invoice // customer -> invoice id -> invoice
	negativations     map[string]credit.Negativation       // id -> record
	negativationOf    map[string]string                    // customer#invoice -> negativation id
	erasures          map[string]credit.PartyErasure       // kind#id -> erasure
}

func New() *Store {
	s := &Store{}
	s.init()
	return s
}

func (s *Store) init() {
	if s.integrations != nil {
		return
	}
	s.integrations = map[string]credit.Integration{}
	s.branches = map[string]string{}
	s.liveNegativations = map[string]int{}
	s.parties = map[string]credit.Party{}
	s.invoices = map[string]map[string]credit.Invoice{}
	s.negativations = map[string]credit.Negativation{}
	s.negativationOf = map[string]string{}
}

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
