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

// NewTestIntegration returns a valid integration for branch, as the service
// would build it.
func NewTestIntegration(branch string) credit.Integration {
	now := time.Now().UTC().Truncate(time.Millisecond)
	return credit.Integration{
		ID: uuid.NewString(), Intermediary: credit.IntermediaryConnect, BranchID: branch,
		Environment: credit.EnvironmentHomologation, Login: "isp-" + branch, DefaultPlan: credit.PlanReportScore,
		SendSMSOnInclusion: true, ResponsibleCPF: credit.MustParseDocument("52998224725"),
		Automation: credit.Automation{Enabled: true, RestrictionCode: "PEF01", RemovalCode: "BX01", DaysAfterDue: 30},
		SecretRef:  "arn:aws:secretsmanager:us-east-1:000000000000:secret:test-" + branch,
		CreatedAt:  now, UpdatedAt: now, CreatedBy: credit.Actor{Subject: "u1", Name: "Admin"}, UpdatedBy: credit.Actor{Subject: "u1", Name: "Admin"},
		Version: 1,
	}
}

// IntegrationStore is the contract of credit.IntegrationStore, including the
// one-integration-per-branch race.
func IntegrationStore(t *testing.T, newStore func(t *testing.T) credit.IntegrationStore) {
	ctx := context.Background()

	t.Run("create, get, get by branch", func(t *testing.T) {
		s := newStore(t)
		i := NewTestIntegration("b1")
		require.NoError(t, s.CreateIntegration(ctx, i))
		got, err := s.GetIntegration(ctx, i.ID)
		require.NoError(t, err)
		assert.Equal(t, i, got)
		got, err = s.GetIntegrationByBranch(ctx, "b1")
		require.NoError(t, err)
		assert.Equal(t, i.ID, got.ID)
	})

	t.Run("not found", func(t *testing.T) {
		s := newStore(t)
		_, err := s.GetIntegration(ctx, "missing")
		assert.Equal(t, credit.KindNotFound, credit.ErrorKind(err))
		_, err = s.GetIntegrationByBranch(ctx, "missing")
		assert.Equal(t, credit.KindNotFound, credit.ErrorKind(err))
		_, err = s.UpdateIntegration(ctx, "missing", func(*credit.Integration) error { return nil })
		assert.Equal(t, credit.KindNotFound, credit.ErrorKind(err))
		_, err = s.DeleteIntegration(ctx, "missing")
		assert.Equal(t, credit.KindNotFound, credit.ErrorKind(err))
	})

	t.Run("second integration for a branch is refused with the reference message", func(t *testing.T) {
		s := newStore(t)
		require.NoError(t, s.CreateIntegration(ctx, NewTestIntegration("b7")))
		err := s.CreateIntegration(ctx, NewTestIntegration("b7"))
		require.Error(t, err)
		assert.Equal(t, credit.CodeBranchAlreadyIntegrated, credit.ErrorCode(err))
		assert.Equal(t, "Não foi possível prosseguir. A filial ID b7 já possui uma integração vinculada.", credit.ErrorMessage(err))
	})

	t.Run("concurrent creates for one branch: exactly one wins", func(t *testing.T) {
		s := newStore(t)
		const n = 16
		var wg sync.WaitGroup
		errs := make([]error, n)
		ids := make([]string, n)
		for k := 0; k < n; k++ {
			wg.Add(1)
			go func(k int) {
				defer wg.Done()
				i := NewTestIntegration("race")
				ids[k] = i.ID
				errs[k] = s.CreateIntegration(ctx, i)
			}(k)
		}
		wg.Wait()
		winners := 0
		winner := ""
		for k, err := range errs {
			if err == nil {
				winners++
				winner = ids[k]
				continue
			}
			assert.Equal(t, credit.CodeBranchAlreadyIntegrated, credit.ErrorCode(err), "loser %d: %v", k, err)
		}
		require.Equal(t, 1, winners)
		got, err := s.GetIntegrationByBranch(ctx, "race")
		require.NoError(t, err)
		assert.Equal(t, winner, got.ID)
		for k, id := range ids {
			if id == winner {
				continue
			}
			_, err := s.GetIntegration(ctx, id)
			assert.Equal(t, credit.KindNotFound, credit.ErrorKind(err), "loser %d left a record", k)
		}
	})

	t.Run("list pages through every integration of the branches once, oldest first", func(t *testing.T) {
		s := newStore(t)
		var all []credit.Integration
		for k := 0; k < 5; k++ {
			i := NewTestIntegration(fmt.Sprintf("list-%d", k))
			i.CreatedAt = i.CreatedAt.Add(time.Duration(k) * time.Second)
			require.NoError(t, s.CreateIntegration(ctx, i))
			all = append(all, i)
		}
		for _, tt := range []struct {
			name     string
			branches credit.Branches
		}{
			{"every branch", nil},
			{"three branches, one unknown", credit.Branches{"list-4", "list-1", "list-3", "nowhere"}},
			{"no branch", credit.Branches{}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				var want, got []string
				for _, i := range all {
					if tt.branches.Allows(i.BranchID) {
						want = append(want, i.ID)
					}
				}
				cursor := ""
				pages := 0
				for {
					items, next, err := s.ListIntegrations(ctx, tt.branches, credit.Page{Limit: 2, Cursor: cursor})
					require.NoError(t, err)
					pages++
					if next != "" {
						assert.Len(t, items, 2, "a page is full while more follow")
					}
					for _, i := range items {
						got = append(got, i.ID)
					}
					if next == "" {
						break
					}
					cursor = next
					require.Less(t, pages, 10)
				}
				assert.Equal(t, want, got)
				_, _, err := s.ListIntegrations(ctx, tt.branches, credit.Page{Limit: 2, Cursor: "not-a-cursor"})
				assert.Equal(t, credit.CodeInvalidCursor, credit.ErrorCode(err))
			})
		}
	})

	t.Run("update keeps identity, bumps version, moves the branch lock", func(t *testing.T) {
		s := newStore(t)
		i := NewTestIntegration("from")
		require.NoError(t, s.CreateIntegration(ctx, i))
		require.NoError(t, s.CreateIntegration(ctx, NewTestIntegration("taken")))

		updated, err := s.UpdateIntegration(ctx, i.ID, func(x *credit.Integration) error {
			x.Login = "new-login"
			x.SecretRef = "must-not-change"
			return nil
		})
		require.NoError(t, err)
		assert.Equal(t, "new-login", updated.Login)
		assert.Equal(t, i.SecretRef, updated.SecretRef)
		assert.Equal(t, i.Version+1, updated.Version)

		_, err = s.UpdateIntegration(ctx, i.ID, func(x *credit.Integration) error { x.BranchID = "taken"; return nil })
		assert.Equal(t, credit.CodeBranchAlreadyIntegrated, credit.ErrorCode(err))
		got, err := s.GetIntegration(ctx, i.ID)
		require.NoError(t, err)
		assert.Equal(t, "from", got.BranchID, "a refused move changes nothing")

		_, err = s.UpdateIntegration(ctx, i.ID, func(x *credit.Integration) error { x.BranchID = "to"; return nil })
		require.NoError(t, err)
		_, err = s.GetIntegrationByBranch(ctx, "from")
		assert.Equal(t, credit.KindNotFound, credit.ErrorKind(err), "the old branch is free")
		got, err = s.GetIntegrationByBranch(ctx, "to")
		require.NoError(t, err)
		assert.Equal(t, i.ID, got.ID)
		require.NoError(t, s.CreateIntegration(ctx, NewTestIntegration("from")), "the old branch takes a new integration")

		abort := credit.NewError(credit.KindInvalid, "x", "x")
		_, err = s.UpdateIntegration(ctx, i.ID, func(x *credit.Integration) error { x.Login = "no"; return abort })
		assert.ErrorIs(t, err, abort)
		got, _ = s.GetIntegration(ctx, i.ID)
		assert.Equal(t, "new-login", got.Login)
	})

	t.Run("delete frees the branch", func(t *testing.T) {
		s := newStore(t)
		i := NewTestIntegration("del")
		require.NoError(t, s.CreateIntegration(ctx, i))
		deleted, err := s.DeleteIntegration(ctx, i.ID)
		require.NoError(t, err)
		assert.Equal(t, i.SecretRef, deleted.SecretRef)
		_, err = s.GetIntegration(ctx, i.ID)
		assert.Equal(t, credit.KindNotFound, credit.ErrorKind(err))
		require.NoError(t, s.CreateIntegration(ctx, NewTestIntegration("del")))
	})
}
