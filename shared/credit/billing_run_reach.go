package credit

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// This file is what a run's items reach through: the throttle on the
// bureau and the short-lived caches of the parameters and integrations.

// depsFor is what the run's items of one integration read and call
// through: the negativation service's access to the bureau behind the
// run's slots and the integration's rate limit, the parameters and
// integrations through the run's cache, log lines naming the integration
// (the context names the run).
func (w *billingWalk) depsFor(i Integration) negativationDeps {
	var limiter Limiter
	if w.rule.NewLimiter != nil {
		limiter = w.rule.NewLimiter(i.ID)
	} else {
		limiter = rate.NewLimiter(rate.Limit(w.cfg.RatePerIntegration), w.cfg.Burst)
	}
	return negativationDeps{
		params:       w.params,
		integrations: w.integrations,
		bureau:       throttledAccess{RegistryAccess: w.rule.Negativations.Bureau, slots: w.slots, limiter: limiter},
		log:          w.log.With(slog.String("integrationId", i.ID)),
	}
}

// throttledAccess holds one of the run's slots and a token of the
// integration's rate limit for each registry call.
type throttledAccess struct {
	RegistryAccess
	slots   chan struct{}
	limiter Limiter
}

func (b throttledAccess) acquire(ctx context.Context) (func(), error) {
	if err := b.limiter.Wait(ctx); err != nil {
		return nil, BureauUnavailable(err)
	}
	select {
	case b.slots <- struct{}{}:
		return func() { <-b.slots }, nil
	case <-ctx.Done():
		return nil, BureauUnavailable(ctx.Err())
	}
}

func (b throttledAccess) Include(ctx context.Context, i Integration, r NegativationRequest) (BureauRecord, error) {
	release, err := b.acquire(ctx)
	if err != nil {
		return BureauRecord{}, err
	}
	defer release()
	return b.RegistryAccess.Include(ctx, i, r)
}

func (b throttledAccess) Remove(ctx context.Context, i Integration, r RemovalRequest) error {
	release, err := b.acquire(ctx)
	if err != nil {
		return err
	}
	defer release()
	return b.RegistryAccess.Remove(ctx, i, r)
}

func (b throttledAccess) Status(ctx context.Context, i Integration, refs []string) ([]BureauRecord, error) {
	release, err := b.acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	return b.RegistryAccess.Status(ctx, i, refs)
}

// billingReadTTL is how long a run trusts the parameters and an
// integration it read: the master switch turned off, or an integration's
// automation changed, reaches a run within it. The writes stay guarded by
// the store (a negativation is never created for a deleted integration).
const billingReadTTL = 30 * time.Second

// runCached is a value read at a time.
type runCached[T any] struct {
	value T
	at    time.Time
}

func (c runCached[T]) fresh(now time.Time) bool {
	return !c.at.IsZero() && now.Sub(c.at) < billingReadTTL
}

// runParameters is the parameters store as a run reads it.
type runParameters struct {
	ParametersStore
	now func() time.Time
	mu  sync.Mutex
	p   runCached[Parameters]
}

func (c *runParameters) GetParameters(ctx context.Context) (Parameters, error) {
	c.mu.Lock()
	cached := c.p
	c.mu.Unlock()
	if cached.fresh(c.now()) {
		return cached.value, nil
	}
	p, err := c.ParametersStore.GetParameters(ctx)
	if err != nil {
		return Parameters{}, err
	}
	c.mu.Lock()
	c.p = runCached[Parameters]{value: p, at: c.now()}
	c.mu.Unlock()
	return p, nil
}

// runIntegrations is the integration store as a run reads it: the
// integrations found, by id and by branch.
type runIntegrations struct {
	IntegrationStore
	now      func() time.Time
	mu       sync.Mutex
	byID     map[string]runCached[Integration]
	byBranch map[string]runCached[Integration]
}

func (c *runIntegrations) GetIntegration(ctx context.Context, id string) (Integration, error) {
	return c.read(ctx, c.byID, id, c.IntegrationStore.GetIntegration)
}

func (c *runIntegrations) GetIntegrationByBranch(ctx context.Context, branchID string) (Integration, error) {
	return c.read(ctx, c.byBranch, branchID, c.IntegrationStore.GetIntegrationByBranch)
}

func (c *runIntegrations) read(ctx context.Context, m map[string]runCached[Integration], key string,
	get func(context.Context, string) (Integration, error)) (Integration, error) {
	c.mu.Lock()
	cached := m[key]
	c.mu.Unlock()
	if cached.fresh(c.now()) {
		return cached.value, nil
	}
	i, err := get(ctx, key)
	if err != nil {
		return Integration{}, err
	}
	c.mu.Lock()
	m[key] = runCached[Integration]{value: i, at: c.now()}
	c.mu.Unlock()
	return i, nil
}
