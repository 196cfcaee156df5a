package memory_test

import (
	"context"
	"errors"
	"testing"

	"creditanalysis/shared/credit"
	"creditanalysis/shared/credit/credittest"
	"creditanalysis/shared/memory"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSecretStoreContract(t *testing.T) {
	credittest.SecretStore(t, func(t *testing.T) credit.SecretStore { return memory.NewSecrets() })
}

func TestSecretsInject(t *testing.T) {
	ctx := context.Background()
	s := memory.NewSecrets()
	ref, err := s.Create(ctx, "integration-1", credit.IntegrationSecrets{PEFINPassword: "402918"})
	require.NoError(t, err)

	var seen []string
	s.Inject(func(op string) error {
		seen = append(seen, op)
		switch op {
		case "PutPending":
			return errors.New("injected")
		case "Promote":
			return credit.SecretNotFound()
		}
		return nil
	})

	_, err = s.PutPending(ctx, ref, credit.IntegrationSecrets{PEFINPassword: "718305"}, "change-1")
	assert.Equal(t, credit.KindInternal, credit.ErrorKind(err))
	assert.Equal(t, credit.CodeSecretNotFound, credit.ErrorCode(s.Promote(ctx, ref, "v")))
	_, _, ok, err := s.Pending(ctx, ref)
	require.NoError(t, err)
	assert.False(t, ok, "a failed PutPending changes nothing")
	assert.Equal(t, []string{"PutPending", "Promote", "Pending"}, seen)

	s.Inject(nil)
	_, err = s.PutPending(ctx, ref, credit.IntegrationSecrets{PEFINPassword: "718305"}, "change-1")
	require.NoError(t, err)
}
