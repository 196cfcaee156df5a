package credittest

import (
	"context"
	"crypto/rand"
	"fmt"
	"testing"

	"creditanalysis/shared/credit"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// newIntegrationID is unique per call and per run, so that runs sharing one
// backing store do not collide (a deleted secret's name stays taken for its
// recovery window).
func newIntegrationID() string {
	return "test-" + rand.Text()
}

// SecretStore is the contract of credit.SecretStore; newStore returns a
// store whose secrets do not survive from one test to the next (or are
// named apart by integration ID).
func SecretStore(t *testing.T, newStore func(t *testing.T) credit.SecretStore) {
	ctx := context.Background()
	first := credit.IntegrationSecrets{ConsultationPassword: "Ab1@cdEf", PEFINPassword: "402918"}
	second := credit.IntegrationSecrets{ConsultationPassword: "Zy9#wxUv", PEFINPassword: "718305"}
	third := credit.IntegrationSecrets{ConsultationPassword: "Qq7!rrSs", PEFINPassword: "150926"}

	create := func(t *testing.T, s credit.SecretStore, v credit.IntegrationSecrets) string {
		t.Helper()
		ref, err := s.Create(ctx, newIntegrationID(), v)
		require.NoError(t, err)
		require.NotEmpty(t, ref)
		return ref
	}
	requireCurrent := func(t *testing.T, s credit.SecretStore, ref string, want credit.IntegrationSecrets) {
		t.Helper()
		got, err := s.Current(ctx, ref)
		require.NoError(t, err)
		assert.Equal(t, want, got, "current")
		got, err = s.Reload(ctx, ref)
		require.NoError(t, err)
		assert.Equal(t, want, got, "reloaded current")
	}
	requireNoPending := func(t *testing.T, s credit.SecretStore, ref string) {
		t.Helper()
		_, _, ok, err := s.Pending(ctx, ref)
		require.NoError(t, err)
		assert.False(t, ok, "no pending version expected")
	}
	requireNotFound := func(t *testing.T, err error) {
		t.Helper()
		require.Error(t, err)
		assert.Equal(t, credit.CodeSecretNotFound, credit.ErrorCode(err), "%v", err)
		assert.Equal(t, credit.KindNotFound, credit.ErrorKind(err))
	}

	t.Run("create then read the current version, no pending", func(t *testing.T) {
		s := newStore(t)
		ref := create(t, s, first)
		requireCurrent(t, s, ref, first)
		requireNoPending(t, s, ref)
	})

	t.Run("values round-trip exactly", func(t *testing.T) {
		s := newStore(t)
		for _, v := range []credit.IntegrationSecrets{
			{},
			{ConsultationPassword: `a"b\c/d`, PEFINPassword: "  0 "},
			{ConsultationPassword: "ção€😀", PEFINPassword: "\n\t<>&"},
		} {
			ref := create(t, s, v)
			requireCurrent(t, s, ref, v)
		}
	})

	t.Run("one secret per integration", func(t *testing.T) {
		s := newStore(t)
		id := newIntegrationID()
		ref, err := s.Create(ctx, id, first)
		require.NoError(t, err)
		_, err = s.Create(ctx, id, second)
		require.Error(t, err)
		assert.Equal(t, credit.CodeSecretAlreadyExists, credit.ErrorCode(err), "%v", err)
		assert.Equal(t, credit.KindConflict, credit.ErrorKind(err))
		requireCurrent(t, s, ref, first)
	})

	t.Run("integrations are apart", func(t *testing.T) {
		s := newStore(t)
		a := create(t, s, first)
		b := create(t, s, second)
		assert.NotEqual(t, a, b)
		_, err := s.PutPending(ctx, a, third, "token-a")
		require.NoError(t, err)
		requireNoPending(t, s, b)
		requireCurrent(t, s, b, second)
	})

	t.Run("pending is visible beside current", func(t *testing.T) {
		s := newStore(t)
		ref := create(t, s, first)
		versionID, err := s.PutPending(ctx, ref, second, "change-1")
		require.NoError(t, err)
		require.NotEmpty(t, versionID)

		requireCurrent(t, s, ref, first)
		got, gotID, ok, err := s.Pending(ctx, ref)
		require.NoError(t, err)
		require.True(t, ok)
		assert.Equal(t, second, got)
		assert.Equal(t, versionID, gotID)
	})

	t.Run("put pending is idempotent per token", func(t *testing.T) {
		s := newStore(t)
		ref := create(t, s, first)
		v1, err := s.PutPending(ctx, ref, second, "change-1")
		require.NoError(t, err)
		v2, err := s.PutPending(ctx, ref, second, "change-1")
		require.NoError(t, err)
		assert.Equal(t, v1, v2)
		got, gotID, ok, err := s.Pending(ctx, ref)
		require.NoError(t, err)
		require.True(t, ok)
		assert.Equal(t, second, got)
		assert.Equal(t, v1, gotID)
		requireCurrent(t, s, ref, first)
	})

	t.Run("same token with another value fails and changes nothing", func(t *testing.T) {
		s := newStore(t)
		ref := create(t, s, first)
		v1, err := s.PutPending(ctx, ref, second, "change-1")
		require.NoError(t, err)
		_, err = s.PutPending(ctx, ref, third, "change-1")
		require.Error(t, err)
		assert.Equal(t, credit.KindInternal, credit.ErrorKind(err))
		got, gotID, ok, err := s.Pending(ctx, ref)
		require.NoError(t, err)
		require.True(t, ok)
		assert.Equal(t, second, got)
		assert.Equal(t, v1, gotID)
	})

	t.Run("a new pending replaces the old one", func(t *testing.T) {
		s := newStore(t)
		ref := create(t, s, first)
		v1, err := s.PutPending(ctx, ref, second, "change-1")
		require.NoError(t, err)
		v2, err := s.PutPending(ctx, ref, third, "change-2")
		require.NoError(t, err)
		assert.NotEqual(t, v1, v2)
		got, gotID, ok, err := s.Pending(ctx, ref)
		require.NoError(t, err)
		require.True(t, ok)
		assert.Equal(t, third, got)
		assert.Equal(t, v2, gotID)
		requireCurrent(t, s, ref, first)

		// The replaced version is no longer pending: promoting the new one
		// leaves nothing pending.
		require.NoError(t, s.Promote(ctx, ref, v2))
		requireCurrent(t, s, ref, third)
		requireNoPending(t, s, ref)
	})

	t.Run("promote makes pending current, idempotently", func(t *testing.T) {
		s := newStore(t)
		ref := create(t, s, first)
		requireCurrent(t, s, ref, first) // warms any cache
		versionID, err := s.PutPending(ctx, ref, second, "change-1")
		require.NoError(t, err)

		require.NoError(t, s.Promote(ctx, ref, versionID))
		requireCurrent(t, s, ref, second)
		requireNoPending(t, s, ref)

		require.NoError(t, s.Promote(ctx, ref, versionID), "promoting the current version again")
		requireCurrent(t, s, ref, second)
		requireNoPending(t, s, ref)
	})

	t.Run("retrying put pending after its promotion changes nothing", func(t *testing.T) {
		s := newStore(t)
		ref := create(t, s, first)
		v1, err := s.PutPending(ctx, ref, second, "change-1")
		require.NoError(t, err)
		require.NoError(t, s.Promote(ctx, ref, v1))
		v2, err := s.PutPending(ctx, ref, second, "change-1")
		require.NoError(t, err)
		assert.Equal(t, v1, v2)
		requireCurrent(t, s, ref, second)
		requireNoPending(t, s, ref)
	})

	t.Run("several changes in a row", func(t *testing.T) {
		s := newStore(t)
		ref := create(t, s, first)
		for i, v := range []credit.IntegrationSecrets{second, third, first, second} {
			versionID, err := s.PutPending(ctx, ref, v, fmt.Sprintf("change-%d", i))
			require.NoError(t, err)
			require.NoError(t, s.Promote(ctx, ref, versionID))
			requireCurrent(t, s, ref, v)
			requireNoPending(t, s, ref)
		}
	})

	t.Run("promoting the replaced current again brings it back", func(t *testing.T) {
		// A roll-forward that turns out wrong can be undone by promoting the
		// earlier version's ID.
		s := newStore(t)
		ref := create(t, s, first)
		v1, err := s.PutPending(ctx, ref, second, "change-1")
		require.NoError(t, err)
		require.NoError(t, s.Promote(ctx, ref, v1))
		v2, err := s.PutPending(ctx, ref, third, "change-2")
		require.NoError(t, err)
		require.NoError(t, s.Promote(ctx, ref, v2))
		require.NoError(t, s.Promote(ctx, ref, v1))
		requireCurrent(t, s, ref, second)
	})

	t.Run("promote an unknown version", func(t *testing.T) {
		s := newStore(t)
		ref := create(t, s, first)
		requireNotFound(t, s.Promote(ctx, ref, "00000000-0000-4000-8000-000000000000"))
		requireCurrent(t, s, ref, first)
	})

	t.Run("discard pending rolls back", func(t *testing.T) {
		s := newStore(t)
		ref := create(t, s, first)
		require.NoError(t, s.DiscardPending(ctx, ref), "nothing to discard")
		_, err := s.PutPending(ctx, ref, second, "change-1")
		require.NoError(t, err)
		require.NoError(t, s.DiscardPending(ctx, ref))
		requireNoPending(t, s, ref)
		requireCurrent(t, s, ref, first)
		require.NoError(t, s.DiscardPending(ctx, ref), "discarding twice")

		// A new change works after a roll back, and so does a retry of the
		// discarded one.
		v2, err := s.PutPending(ctx, ref, third, "change-2")
		require.NoError(t, err)
		require.NoError(t, s.Promote(ctx, ref, v2))
		requireCurrent(t, s, ref, third)
	})

	t.Run("a discarded change can be retried with its token", func(t *testing.T) {
		s := newStore(t)
		ref := create(t, s, first)
		v1, err := s.PutPending(ctx, ref, second, "change-1")
		require.NoError(t, err)
		require.NoError(t, s.DiscardPending(ctx, ref))
		v2, err := s.PutPending(ctx, ref, second, "change-1")
		require.NoError(t, err)
		assert.Equal(t, v1, v2)
		got, _, ok, err := s.Pending(ctx, ref)
		require.NoError(t, err)
		require.True(t, ok)
		assert.Equal(t, second, got)
	})

	t.Run("unknown secret", func(t *testing.T) {
		s := newStore(t)
		ref := create(t, s, first)
		require.NoError(t, s.ScheduleDeletion(ctx, ref))
		for _, unknown := range []string{"", "no-such-secret", ref} {
			t.Run(fmt.Sprintf("ref %q", unknown), func(t *testing.T) {
				_, err := s.Current(ctx, unknown)
				requireNotFound(t, err)
				_, err = s.Reload(ctx, unknown)
				requireNotFound(t, err)
				_, _, _, err = s.Pending(ctx, unknown)
				requireNotFound(t, err)
				_, err = s.PutPending(ctx, unknown, second, "change-1")
				requireNotFound(t, err)
				requireNotFound(t, s.Promote(ctx, unknown, "00000000-0000-4000-8000-000000000000"))
				requireNotFound(t, s.DiscardPending(ctx, unknown))
			})
		}
		requireNotFound(t, s.ScheduleDeletion(ctx, "no-such-secret"))
	})

	t.Run("schedule deletion", func(t *testing.T) {
		s := newStore(t)
		id := newIntegrationID()
		ref, err := s.Create(ctx, id, first)
		require.NoError(t, err)
		other := create(t, s, second)
		requireCurrent(t, s, ref, first) // warms any cache
		_, err = s.PutPending(ctx, ref, third, "change-1")
		require.NoError(t, err)

		require.NoError(t, s.ScheduleDeletion(ctx, ref))
		_, err = s.Current(ctx, ref)
		requireNotFound(t, err)
		_, _, _, err = s.Pending(ctx, ref)
		requireNotFound(t, err)
		require.NoError(t, s.ScheduleDeletion(ctx, ref), "scheduling twice")

		// The name stays taken during the recovery window.
		_, err = s.Create(ctx, id, second)
		assert.Equal(t, credit.CodeSecretAlreadyExists, credit.ErrorCode(err), "%v", err)
		requireCurrent(t, s, other, second)
	})

	t.Run("errors never carry a secret value", func(t *testing.T) {
		s := newStore(t)
		ref := create(t, s, first)
		_, err := s.PutPending(ctx, ref, second, "change-1")
		require.NoError(t, err)
		_, err = s.PutPending(ctx, ref, third, "change-1")
		require.Error(t, err)
		for _, v := range []string{first.ConsultationPassword, first.PEFINPassword, second.ConsultationPassword, second.PEFINPassword, third.ConsultationPassword, third.PEFINPassword} {
			assert.NotContains(t, err.Error(), v)
			assert.NotContains(t, fmt.Sprintf("%+v", err), v)
		}
	})
}
