package memory

import (
	"context"
	"maps"
	"slices"
	"sync"
	"time"

	"creditanalysis/shared/credit"
)

// Idempotency is the in-memory credit.IdempotencyStore: claims and answers
// in a map behind one mutex.
type Idempotency struct {
	// Now is the clock leases and expiry are judged by; time.Now when nil.
	Now func() time.Time

	mu   sync.Mutex
	keys map[idempotencyKey]idempotencyEntry
}

type idempotencyKey struct{ caller, key string }

type idempotencyEntry struct {
	claim    credit.IdempotencyClaim
	response *credit.IdempotentResponse // nil while the attempt runs
}

// NewIdempotency returns an empty store.
func NewIdempotency() *Idempotency {
	return &Idempotency{keys: map[idempotencyKey]idempotencyEntry{}}
}

var _ credit.IdempotencyStore = (*Idempotency)(nil)

func (s *Idempotency) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Idempotency) BeginIdempotency(ctx context.Context, c credit.IdempotencyClaim) (*credit.IdempotentResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.keys == nil {
		s.keys = map[idempotencyKey]idempotencyEntry{}
	}
	k := idempotencyKey{c.Caller, c.Key}
	now := s.now()
	if cur, ok := s.keys[k]; ok && now.Before(cur.claim.ExpiresAt) {
		switch {
		case cur.response != nil && cur.claim.Fingerprint != c.Fingerprint:
			return nil, credit.ErrIdempotencyKeyReused
		case cur.response != nil:
			r := copyResponse(*cur.response)
			return &r, nil
		case now.Before(cur.claim.LeaseUntil) && cur.claim.Fingerprint != c.Fingerprint:
			return nil, credit.ErrIdempotencyKeyReused
		case now.Before(cur.claim.LeaseUntil):
			return nil, credit.ErrRequestInProgress
		}
	}
	s.keys[k] = idempotencyEntry{claim: c}
	return nil, nil
}

func (s *Idempotency) CompleteIdempotency(ctx context.Context, c credit.IdempotencyClaim, r credit.IdempotentResponse) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := idempotencyKey{c.Caller, c.Key}
	cur, ok := s.keys[k]
	if !ok || cur.response != nil || cur.claim.Holder != c.Holder {
		return credit.ErrRequestInProgress
	}
	kept := copyResponse(r)
	cur.claim.ExpiresAt, cur.response = c.ExpiresAt, &kept
	s.keys[k] = cur
	return nil
}

func (s *Idempotency) ReleaseIdempotency(ctx context.Context, c credit.IdempotencyClaim) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := idempotencyKey{c.Caller, c.Key}
	if cur, ok := s.keys[k]; ok && cur.response == nil && cur.claim.Holder == c.Holder {
		delete(s.keys, k)
	}
	return nil
}

// copyResponse copies r so that neither the caller nor the store sees the
// other's later changes.
func copyResponse(r credit.IdempotentResponse) credit.IdempotentResponse {
	out := credit.IdempotentResponse{Status: r.Status, Body: slices.Clone(r.Body), AuditTarget: maps.Clone(r.AuditTarget)}
	if r.Header != nil {
		out.Header = maps.Clone(r.Header)
		for name, values := range out.Header {
			out.Header[name] = slices.Clone(values)
		}
	}
	return out
}
