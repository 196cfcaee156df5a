package memory_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"creditanalysis/shared/credit"
	"creditanalysis/shared/credit/credittest"
	"creditanalysis/shared/memory"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPasswordStoreContract(t *testing.T) {
	credittest.PasswordStore(t, func(t *testing.T) credit.PasswordStore { return memory.NewPasswordHistory() })
}

// TestPasswordHistoryInject checks the failure hook the domain's tests rely
// on: the chosen method fails, as an internal error, and changes nothing.
func TestPasswordHistoryInject(t *testing.T) {
	ctx := context.Background()
	h := memory.NewPasswordHistory()
	h.Inject(func(op string) error {
		if op == "AcquirePasswordLease" {
			return errors.New("injected")
		}
		return nil
	})
	l := credit.PasswordLease{IntegrationID: "i1", HolderID: "a", Until: time.Now().Add(time.Minute)}
	err := h.AcquirePasswordLease(ctx, l)
	require.Error(t, err)
	assert.Equal(t, credit.CodeInternal, credit.ErrorCode(err))

	h.Inject(nil)
	require.NoError(t, h.AcquirePasswordLease(ctx, credit.PasswordLease{IntegrationID: "i1", HolderID: "b", Until: time.Now().Add(time.Minute)}),
		"the failed call took no lease")
}
