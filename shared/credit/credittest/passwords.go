package credittest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"creditanalysis/shared/credit"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// PasswordStore is the contract of credit.PasswordStore; newStore returns a
// store whose clock is the real one (leases are expired by giving them an
// Until in the past, never by waiting).
func PasswordStore(t *testing.T, newStore func(t *testing.T) credit.PasswordStore) {
	ctx := context.Background()
	base := time.Now().UTC().Truncate(time.Millisecond)
	later := base.Add(time.Hour)
	admin := credit.Actor{Subject: "admin-1", Name: "Ana Admin"}

	lease := func(integrationID, holder string, kind credit.CredentialKind) credit.PasswordLease {
		return credit.PasswordLease{IntegrationID: integrationID, HolderID: holder, Kind: kind, Until: later}
	}
	change := func(integrationID string, kind credit.CredentialKind, started time.Time) credit.PasswordChange {
		return credit.PasswordChange{
			ID: uuid.NewString(), IntegrationID: integrationID, Kind: kind, Actor: admin, RequestID: "req-" + uuid.NewString()[:8],
			StartedAt: started, Outcome: credit.PasswordChangeRunning, ReplacedHash: "$argon2id$v=19$m=64,t=1,p=1$" + uuid.NewString(),
		}
	}
	// begin takes the lease for c, begins it and lets the lease go.
	begin := func(t *testing.T, s credit.PasswordStore, c credit.PasswordChange) {
		t.Helper()
		require.NoError(t, s.AcquirePasswordLease(ctx, lease(c.IntegrationID, c.ID, c.Kind)))
		require.NoError(t, s.BeginPasswordChange(ctx, c))
		require.NoError(t, s.ReleasePasswordLease(ctx, c.IntegrationID, c.ID))
	}
	finished := func(c credit.PasswordChange, outcome credit.PasswordChangeOutcome, code string) credit.PasswordChange {
		c.Outcome, c.ErrorCode, c.FinishedAt = outcome, code, c.StartedAt.Add(1500*time.Millisecond)
		return c
	}
	requireInProgress := func(t *testing.T, err error, kind credit.CredentialKind) {
		t.Helper()
		require.Error(t, err)
		assert.Equal(t, credit.CodePasswordChangeInProgress, credit.ErrorCode(err), "%v", err)
		assert.Equal(t, credit.KindConflict, credit.ErrorKind(err))
		if kind != "" {
			e, _ := credit.AsError(err)
			assert.Equal(t, string(kind), e.Details["kind"])
		}
	}
	hashes := func(t *testing.T, s credit.PasswordStore, integrationID string, kind credit.CredentialKind) []string {
		t.Helper()
		h, err := s.PasswordHashes(ctx, integrationID, kind)
		require.NoError(t, err)
		return h
	}
	list := func(t *testing.T, s credit.PasswordStore, integrationID string) []credit.PasswordChange {
		t.Helper()
		items, next, err := s.ListPasswordChanges(ctx, integrationID, credit.Page{Limit: credit.MaxPageLimit})
		require.NoError(t, err)
		assert.Empty(t, next)
		return items
	}

	t.Run("lease: one holder at a time, per integration", func(t *testing.T) {
		s := newStore(t)
		id, other := uuid.NewString(), uuid.NewString()
		require.NoError(t, s.AcquirePasswordLease(ctx, lease(id, "a", credit.CredentialPEFIN)))
		requireInProgress(t, s.AcquirePasswordLease(ctx, lease(id, "b", credit.CredentialConsultation)), credit.CredentialPEFIN)
		require.NoError(t, s.AcquirePasswordLease(ctx, lease(id, "a", credit.CredentialPEFIN)), "the holder may take it again")
		require.NoError(t, s.AcquirePasswordLease(ctx, lease(other, "b", credit.CredentialConsultation)), "another integration is apart")

		require.NoError(t, s.ReleasePasswordLease(ctx, id, "b"), "releasing a lease one does not hold is a no-op")
		requireInProgress(t, s.AcquirePasswordLease(ctx, lease(id, "b", credit.CredentialConsultation)), credit.CredentialPEFIN)

		require.NoError(t, s.ReleasePasswordLease(ctx, id, "a"))
		require.NoError(t, s.AcquirePasswordLease(ctx, lease(id, "b", credit.CredentialConsultation)))
		require.NoError(t, s.ReleasePasswordLease(ctx, id, "a"), "releasing twice is a no-op")
		requireInProgress(t, s.AcquirePasswordLease(ctx, lease(id, "c", "")), credit.CredentialConsultation)
	})

	t.Run("lease: a recovery's lease names no kind", func(t *testing.T) {
		s := newStore(t)
		id := uuid.NewString()
		require.NoError(t, s.AcquirePasswordLease(ctx, lease(id, "recovery-1", "")))
		err := s.AcquirePasswordLease(ctx, lease(id, "b", credit.CredentialPEFIN))
		requireInProgress(t, err, "")
		e, _ := credit.AsError(err)
		assert.NotContains(t, e.Details, "kind")
	})

	t.Run("lease: an expired lease is taken over, and its holder can no longer begin", func(t *testing.T) {
		s := newStore(t)
		id := uuid.NewString()
		c := change(id, credit.CredentialConsultation, base)
		expired := lease(id, c.ID, c.Kind)
		expired.Until = time.Now().Add(-time.Second)
		require.NoError(t, s.AcquirePasswordLease(ctx, expired))
		requireInProgress(t, s.BeginPasswordChange(ctx, c), "")
		require.NoError(t, s.AcquirePasswordLease(ctx, lease(id, "b", credit.CredentialPEFIN)))
		requireInProgress(t, s.BeginPasswordChange(ctx, c), "")
		open, err := s.OpenPasswordChanges(ctx, id)
		require.NoError(t, err)
		assert.Empty(t, open)
	})

	t.Run("lease: of many concurrent takers exactly one wins", func(t *testing.T) {
		s := newStore(t)
		id := uuid.NewString()
		const n = 8
		var wg sync.WaitGroup
		errs := make([]error, n)
		for k := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[k] = s.AcquirePasswordLease(ctx, lease(id, fmt.Sprintf("holder-%d", k), credit.CredentialConsultation))
			}()
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			if err == nil {
				won++
			} else {
				requireInProgress(t, err, credit.CredentialConsultation)
			}
		}
		assert.Equal(t, 1, won)
	})

	t.Run("begin needs the change's own lease", func(t *testing.T) {
		s := newStore(t)
		id := uuid.NewString()
		c := change(id, credit.CredentialConsultation, base)
		requireInProgress(t, s.BeginPasswordChange(ctx, c), "")
		require.NoError(t, s.AcquirePasswordLease(ctx, lease(id, "someone-else", credit.CredentialPEFIN)))
		requireInProgress(t, s.BeginPasswordChange(ctx, c), "")
		assert.Empty(t, list(t, s, id))
		assert.Empty(t, hashes(t, s, id, c.Kind))
	})

	t.Run("begin records the change as open with its hash; finishing as changed keeps the hash", func(t *testing.T) {
		s := newStore(t)
		id := uuid.NewString()
		c := change(id, credit.CredentialConsultation, base)
		require.NoError(t, s.AcquirePasswordLease(ctx, lease(id, c.ID, c.Kind)))
		require.NoError(t, s.BeginPasswordChange(ctx, c))

		open, err := s.OpenPasswordChanges(ctx, id)
		require.NoError(t, err)
		require.Len(t, open, 1)
		assert.Equal(t, c, open[0], "an open change comes back whole, hash included")
		assert.Equal(t, []string{c.ReplacedHash}, hashes(t, s, id, credit.CredentialConsultation))
		assert.Empty(t, hashes(t, s, id, credit.CredentialPEFIN), "kinds are apart")

		listed := list(t, s, id)
		require.Len(t, listed, 1)
		want := c
		want.ReplacedHash = ""
		assert.Equal(t, want, listed[0], "a listed change never carries its hash")

		done := finished(c, credit.PasswordChanged, "")
		require.NoError(t, s.FinishPasswordChange(ctx, done))
		open, err = s.OpenPasswordChanges(ctx, id)
		require.NoError(t, err)
		assert.Empty(t, open)
		listed = list(t, s, id)
		require.Len(t, listed, 1)
		want = done
		want.ReplacedHash = ""
		assert.Equal(t, want, listed[0])
		assert.Equal(t, []string{c.ReplacedHash}, hashes(t, s, id, credit.CredentialConsultation), "a replaced password stays remembered")
	})

	t.Run("finishing without a change drops the hash; the first finish wins", func(t *testing.T) {
		for _, outcome := range []credit.PasswordChangeOutcome{credit.PasswordChangeRejected, credit.PasswordChangeFailed} {
			t.Run(string(outcome), func(t *testing.T) {
				s := newStore(t)
				id := uuid.NewString()
				c := change(id, credit.CredentialPEFIN, base)
				begin(t, s, c)
				first := finished(c, outcome, credit.CodeBureauRejected)
				first.Recovered = true
				require.NoError(t, s.FinishPasswordChange(ctx, first))
				assert.Empty(t, hashes(t, s, id, credit.CredentialPEFIN))

				require.NoError(t, s.FinishPasswordChange(ctx, finished(c, credit.PasswordChanged, "")), "finishing again is not an error")
				listed := list(t, s, id)
				require.Len(t, listed, 1)
				assert.Equal(t, outcome, listed[0].Outcome)
				assert.Equal(t, credit.CodeBureauRejected, listed[0].ErrorCode)
				assert.True(t, listed[0].Recovered)
				assert.Empty(t, hashes(t, s, id, credit.CredentialPEFIN), "a later finish does not bring the hash back")
			})
		}
	})

	t.Run("a change ID is recorded once", func(t *testing.T) {
		s := newStore(t)
		id := uuid.NewString()
		c := change(id, credit.CredentialConsultation, base)
		require.NoError(t, s.AcquirePasswordLease(ctx, lease(id, c.ID, c.Kind)))
		require.NoError(t, s.BeginPasswordChange(ctx, c))
		require.Error(t, s.BeginPasswordChange(ctx, c))
		assert.Len(t, list(t, s, id), 1)
		assert.Len(t, hashes(t, s, id, c.Kind), 1)
	})

	t.Run("open changes oldest first, hashes of every replaced password, integrations apart", func(t *testing.T) {
		s := newStore(t)
		id, other := uuid.NewString(), uuid.NewString()
		c1 := change(id, credit.CredentialConsultation, base)
		c2 := change(id, credit.CredentialConsultation, base.Add(time.Minute))
		c3 := change(id, credit.CredentialConsultation, base.Add(2*time.Minute))
		c4 := change(other, credit.CredentialConsultation, base)
		for _, c := range []credit.PasswordChange{c2, c1, c3, c4} {
			begin(t, s, c)
		}
		require.NoError(t, s.FinishPasswordChange(ctx, finished(c2, credit.PasswordChanged, "")))
		open, err := s.OpenPasswordChanges(ctx, id)
		require.NoError(t, err)
		require.Len(t, open, 2)
		assert.Equal(t, c1.ID, open[0].ID)
		assert.Equal(t, c3.ID, open[1].ID)
		assert.ElementsMatch(t, []string{c1.ReplacedHash, c2.ReplacedHash, c3.ReplacedHash}, hashes(t, s, id, credit.CredentialConsultation))
		assert.Equal(t, []string{c4.ReplacedHash}, hashes(t, s, other, credit.CredentialConsultation))
	})

	t.Run("list: newest first, by pages, per integration", func(t *testing.T) {
		s := newStore(t)
		id := uuid.NewString()
		var want []string
		for k := range 5 {
			c := change(id, []credit.CredentialKind{credit.CredentialConsultation, credit.CredentialPEFIN}[k%2], base.Add(time.Duration(k)*time.Second))
			begin(t, s, c)
			want = append([]string{c.ID}, want...)
		}
		begin(t, s, change(uuid.NewString(), credit.CredentialConsultation, base))

		var got []string
		cursor := ""
		for pages := 0; ; pages++ {
			require.Less(t, pages, 3)
			items, next, err := s.ListPasswordChanges(ctx, id, credit.Page{Limit: 2, Cursor: cursor})
			require.NoError(t, err)
			assert.LessOrEqual(t, len(items), 2)
			for _, c := range items {
				got = append(got, c.ID)
				assert.Empty(t, c.ReplacedHash)
			}
			if next == "" {
				break
			}
			cursor = next
		}
		assert.Equal(t, want, got)

		empty, next, err := s.ListPasswordChanges(ctx, uuid.NewString(), credit.Page{Limit: 10})
		require.NoError(t, err)
		assert.Empty(t, empty)
		assert.Empty(t, next)

		_, _, err = s.ListPasswordChanges(ctx, id, credit.Page{Limit: 2, Cursor: "not-a-cursor"})
		assert.Equal(t, credit.CodeInvalidCursor, credit.ErrorCode(err))
	})
}
