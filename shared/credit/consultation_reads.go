package credit

import (
	"context"
	"sync"
	"time"
)

// WarmReadTTL is how long a warm container trusts the parameters and a
// branch's integration it read for a consultation. It bounds how stale
// they may be: turning the master switch off, or changing or deleting a
// branch's integration, reaches every consultation at most this long after
// the write.
const WarmReadTTL = 5 * time.Second

// ConsultationReads keeps what every consultation reads before the bureau,
// the parameters and each branch's integration, for at most TTL after
// reading them, so that a warm container does not read them again for
// every consultation. Only successful reads are kept. The zero value keeps
// nothing (TTL 0).
type ConsultationReads struct {
	TTL time.Duration
	Now Clock

	mu       sync.Mutex
	params   readAt[Parameters]
	byBranch map[string]readAt[Integration]
}

type readAt[T any] struct {
	value T
	at    time.Time
}

func (c *ConsultationReads) fresh(at time.Time) bool {
	if c == nil || c.TTL <= 0 || at.IsZero() {
		return false
	}
	return c.now().Sub(at) < c.TTL
}

// started is when a read begins; zero without a cache.
func (c *ConsultationReads) started() time.Time {
	if c == nil {
		return time.Time{}
	}
	return c.now()
}

func (c *ConsultationReads) now() time.Time {
	if c.Now != nil {
		return c.Now.Now()
	}
	return time.Now()
}

// Parameters reads the parameters through the cache.
func (c *ConsultationReads) Parameters(ctx context.Context, store ParametersStore) (Parameters, error) {
	if c != nil {
		c.mu.Lock()
		cached := c.params
		c.mu.Unlock()
		if c.fresh(cached.at) {
			return cached.value, nil
		}
	}
	// A value is as old as the moment its read began.
	start := c.started()
	p, err := store.GetParameters(ctx)
	if err != nil || c == nil {
		return p, err
	}
	c.mu.Lock()
	c.params = readAt[Parameters]{value: p, at: start}
	c.mu.Unlock()
	return p, nil
}

// Integration reads the branch's integration through the cache.
func (c *ConsultationReads) Integration(ctx context.Context, s *IntegrationService, branchID string) (Integration, error) {
	if c != nil {
		c.mu.Lock()
		cached := c.byBranch[branchID]
		c.mu.Unlock()
		if c.fresh(cached.at) {
			return cached.value, nil
		}
	}
	start := c.started()
	i, err := s.GetByBranch(ctx, branchID)
	if err != nil || c == nil {
		return i, err
	}
	c.mu.Lock()
	if c.byBranch == nil {
		c.byBranch = map[string]readAt[Integration]{}
	}
	c.byBranch[branchID] = readAt[Integration]{value: i, at: start}
	c.mu.Unlock()
	return i, nil
}

// async runs read in its own goroutine; wait returns its result.
func async[T any](read func() (T, error)) (wait func() (T, error)) {
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1)
	go func() {
		v, err := read()
		ch <- result{v, err}
	}()
	return func() (T, error) {
		r := <-ch
		return r.v, r.err
	}
}
