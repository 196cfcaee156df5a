package credittest

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"sync"
	"testing"
	"time"

	"creditanalysis/shared/credit"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// IdempotencyStore is the contract of credit.IdempotencyStore; newStore
// returns an empty store whose clock is the real one (leases and keys are
// expired by giving them times in the past, never by waiting).
func IdempotencyStore(t *testing.T, newStore func(t *testing.T) credit.IdempotencyStore) {
	ctx := context.Background()
	claim := func(caller, key, fingerprint string) credit.IdempotencyClaim {
		now := time.Now()
		return credit.IdempotencyClaim{
			Caller: caller, Key: key, Fingerprint: fingerprint, Holder: uuid.NewString(),
			LeaseUntil: now.Add(time.Minute), ExpiresAt: now.Add(24 * time.Hour),
		}
	}
	created := credit.IdempotentResponse{
		Status:      201,
		Header:      map[string][]string{"Content-Type": {"application/json; charset=utf-8"}, "Location": {"/consultations/c-1"}},
		Body:        []byte(`{"id":"c-1","status":"succeeded"}` + "\n"),
		AuditTarget: map[string]string{"consultationId": "c-1", "document": "***.982.247-**"},
	}
	requireCode := func(t *testing.T, err error, code string) {
		t.Helper()
		require.Error(t, err)
		assert.Equal(t, code, credit.ErrorCode(err), "%v", err)
	}
	// won begins c and requires that it claimed the key.
	won := func(t *testing.T, s credit.IdempotencyStore, c credit.IdempotencyClaim) {
		t.Helper()
		r, err := s.BeginIdempotency(ctx, c)
		require.NoError(t, err)
		require.Nil(t, r, "the key was free: claimed, nothing to answer")
	}

	t.Run("the first attempt claims; its answer is given again to the same request", func(t *testing.T) {
		s := newStore(t)
		c := claim("user-1", "key-"+uuid.NewString(), "fp-a")
		won(t, s, c)
		require.NoError(t, s.CompleteIdempotency(ctx, c, created))

		again := claim(c.Caller, c.Key, c.Fingerprint)
		r, err := s.BeginIdempotency(ctx, again)
		require.NoError(t, err)
		require.NotNil(t, r)
		assert.Equal(t, created, *r)
		r2, err := s.BeginIdempotency(ctx, again)
		require.NoError(t, err)
		require.NotNil(t, r2, "answered every time, not only once")
		assert.Equal(t, created, *r2)
		require.Error(t, s.CompleteIdempotency(ctx, again, credit.IdempotentResponse{Status: 500}), "a replay claims nothing it could complete")
		r3, err := s.BeginIdempotency(ctx, again)
		require.NoError(t, err)
		assert.Equal(t, created, *r3, "the first answer stays")
	})

	t.Run("another fingerprint under a used key is refused", func(t *testing.T) {
		s := newStore(t)
		c := claim("user-1", "key-"+uuid.NewString(), "fp-a")
		won(t, s, c)
		_, err := s.BeginIdempotency(ctx, claim(c.Caller, c.Key, "fp-b"))
		requireCode(t, err, credit.CodeIdempotencyKeyReused)
		assert.Equal(t, credit.KindUnprocessable, credit.ErrorKind(err))

		require.NoError(t, s.CompleteIdempotency(ctx, c, created))
		_, err = s.BeginIdempotency(ctx, claim(c.Caller, c.Key, "fp-b"))
		requireCode(t, err, credit.CodeIdempotencyKeyReused)
	})

	t.Run("a repeat while the first runs is in progress", func(t *testing.T) {
		s := newStore(t)
		c := claim("user-1", "key-"+uuid.NewString(), "fp-a")
		won(t, s, c)
		_, err := s.BeginIdempotency(ctx, claim(c.Caller, c.Key, c.Fingerprint))
		requireCode(t, err, credit.CodeRequestInProgress)
		assert.Equal(t, credit.KindConflict, credit.ErrorKind(err))
	})

	t.Run("keys belong to their caller", func(t *testing.T) {
		s := newStore(t)
		key := "key-" + uuid.NewString()
		c := claim("user-1", key, "fp-a")
		won(t, s, c)
		won(t, s, claim("user-2", key, "fp-b"))
		won(t, s, claim("user-1", key+"-other", "fp-a"))
		require.NoError(t, s.CompleteIdempotency(ctx, c, created))
		_, err := s.BeginIdempotency(ctx, claim("user-2", key, "fp-b"))
		requireCode(t, err, credit.CodeRequestInProgress)
	})

	t.Run("a released key runs again; only its holder releases it", func(t *testing.T) {
		s := newStore(t)
		c := claim("user-1", "key-"+uuid.NewString(), "fp-a")
		won(t, s, c)
		other := claim(c.Caller, c.Key, c.Fingerprint)
		require.NoError(t, s.ReleaseIdempotency(ctx, other), "releasing a claim one does not hold is a no-op")
		_, err := s.BeginIdempotency(ctx, other)
		requireCode(t, err, credit.CodeRequestInProgress)

		require.NoError(t, s.ReleaseIdempotency(ctx, c))
		require.NoError(t, s.ReleaseIdempotency(ctx, c), "releasing twice is a no-op")
		retry := claim(c.Caller, c.Key, "fp-b")
		won(t, s, retry)
		requireCode(t, s.CompleteIdempotency(ctx, c, created), credit.CodeRequestInProgress)
		require.NoError(t, s.CompleteIdempotency(ctx, retry, created))
		require.NoError(t, s.ReleaseIdempotency(ctx, retry), "an answered key is not released")
		r, err := s.BeginIdempotency(ctx, claim(c.Caller, c.Key, "fp-b"))
		require.NoError(t, err)
		require.NotNil(t, r)
		assert.Equal(t, created, *r)
	})

	t.Run("a crashed attempt's lease passes; it can no longer complete", func(t *testing.T) {
		s := newStore(t)
		crashed := claim("user-1", "key-"+uuid.NewString(), "fp-a")
		crashed.LeaseUntil = time.Now().Add(-time.Second)
		won(t, s, crashed)
		retry := claim(crashed.Caller, crashed.Key, "fp-b")
		won(t, s, retry)
		requireCode(t, s.CompleteIdempotency(ctx, crashed, created), credit.CodeRequestInProgress)
		require.NoError(t, s.ReleaseIdempotency(ctx, crashed))
		_, err := s.BeginIdempotency(ctx, claim(crashed.Caller, crashed.Key, "fp-b"))
		requireCode(t, err, credit.CodeRequestInProgress)
		require.NoError(t, s.CompleteIdempotency(ctx, retry, created))
	})

	t.Run("a late attempt still completes when nobody took over", func(t *testing.T) {
		s := newStore(t)
		c := claim("user-1", "key-"+uuid.NewString(), "fp-a")
		c.LeaseUntil = time.Now().Add(-time.Second)
		won(t, s, c)
		require.NoError(t, s.CompleteIdempotency(ctx, c, created))
		r, err := s.BeginIdempotency(ctx, claim(c.Caller, c.Key, c.Fingerprint))
		require.NoError(t, err)
		require.NotNil(t, r)
		assert.Equal(t, created, *r)
	})

	t.Run("an expired key is forgotten", func(t *testing.T) {
		s := newStore(t)
		c := claim("user-1", "key-"+uuid.NewString(), "fp-a")
		c.ExpiresAt = time.Now().Add(-time.Second)
		won(t, s, c)
		require.NoError(t, s.CompleteIdempotency(ctx, c, created))
		won(t, s, claim(c.Caller, c.Key, "fp-b"))
	})

	t.Run("answers of any size and shape are kept whole", func(t *testing.T) {
		s := newStore(t)
		// An incompressible megabyte and a half: more than one DynamoDB item.
		raw := make([]byte, 1100<<10)
		_, _ = rand.Read(raw)
		large := []byte(`{"report":"` + base64.StdEncoding.EncodeToString(raw) + `"}`)
		for name, r := range map[string]credit.IdempotentResponse{
			"no body":        {Status: 204, Header: map[string][]string{"Cache-Control": {"no-store"}}},
			"no header":      {Status: 400, Body: []byte(`{"error":{}}`)},
			"several values": {Status: 202, Header: map[string][]string{"Vary": {"Accept", "Origin"}}, Body: []byte("{}")},
			"large":          {Status: 201, Header: created.Header, Body: large},
		} {
			t.Run(name, func(t *testing.T) {
				c := claim("user-1", "key-"+uuid.NewString(), "fp-a")
				won(t, s, c)
				require.NoError(t, s.CompleteIdempotency(ctx, c, r))
				got, err := s.BeginIdempotency(ctx, claim(c.Caller, c.Key, c.Fingerprint))
				require.NoError(t, err)
				require.NotNil(t, got)
				assert.Equal(t, r.Status, got.Status)
				assert.Equal(t, len(r.Header), len(got.Header))
				for k, v := range r.Header {
					assert.Equal(t, v, got.Header[k], k)
				}
				assert.True(t, string(r.Body) == string(got.Body), "body of %d bytes came back as %d bytes", len(r.Body), len(got.Body))
			})
		}
	})

	t.Run("a large answer replaced after expiry leaves nothing of the old one", func(t *testing.T) {
		s := newStore(t)
		raw := make([]byte, 1100<<10)
		_, _ = rand.Read(raw)
		old := claim("user-1", "key-"+uuid.NewString(), "fp-a")
		old.ExpiresAt = time.Now().Add(-time.Second)
		won(t, s, old)
		require.NoError(t, s.CompleteIdempotency(ctx, old, credit.IdempotentResponse{Status: 201, Body: []byte(base64.StdEncoding.EncodeToString(raw))}))
		c := claim(old.Caller, old.Key, "fp-b")
		won(t, s, c)
		require.NoError(t, s.CompleteIdempotency(ctx, c, created))
		r, err := s.BeginIdempotency(ctx, claim(c.Caller, c.Key, c.Fingerprint))
		require.NoError(t, err)
		require.NotNil(t, r)
		assert.Equal(t, created, *r)
	})

	t.Run("of many concurrent attempts exactly one claims the key", func(t *testing.T) {
		s := newStore(t)
		key := "key-" + uuid.NewString()
		const n = 8
		var wg sync.WaitGroup
		answers := make([]*credit.IdempotentResponse, n)
		errs := make([]error, n)
		for k := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := claim("user-1", key, "fp-a")
				c.Holder = fmt.Sprintf("attempt-%d", k)
				answers[k], errs[k] = s.BeginIdempotency(ctx, c)
			}()
		}
		wg.Wait()
		claimed := 0
		for k, err := range errs {
			assert.Nil(t, answers[k])
			if err == nil {
				claimed++
			} else {
				requireCode(t, err, credit.CodeRequestInProgress)
			}
		}
		assert.Equal(t, 1, claimed)
	})
}
