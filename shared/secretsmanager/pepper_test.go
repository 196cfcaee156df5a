package secretsmanager_test

import (
	"context"
	"testing"

	"creditanalysis/infra/secretsmanagerlocal"
	"creditanalysis/shared/credit"
	"creditanalysis/shared/secretsmanager"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPepperIsReadOnceAndKept(t *testing.T) {
	ctx := context.Background()
	_, endpoint := secretsmanagerlocal.StartForTest(t)
	client := secretsmanagerlocal.Client(endpoint)

	arn, err := secretsmanager.EnsurePepper(ctx, client, "app/password-pepper")
	require.NoError(t, err)
	again, err := secretsmanager.EnsurePepper(ctx, client, "app/password-pepper")
	require.NoError(t, err)
	assert.Equal(t, arn, again, "created once")
	stored, err := client.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String(arn)})
	require.NoError(t, err)

	p := secretsmanager.NewPepper(client, arn)
	got, err := p.Pepper(ctx)
	require.NoError(t, err)
	assert.Equal(t, aws.ToString(stored.SecretString), string(got))
	assert.GreaterOrEqual(t, len(got), credit.MinPepperBytes)

	// Kept: a second read does not go back to Secrets Manager.
	_, err = client.DeleteSecret(ctx, &sm.DeleteSecretInput{SecretId: aws.String(arn), ForceDeleteWithoutRecovery: aws.Bool(true)})
	require.NoError(t, err)
	kept, err := p.Pepper(ctx)
	require.NoError(t, err)
	assert.Equal(t, got, kept)
}

func TestPepperRefusals(t *testing.T) {
	ctx := context.Background()
	_, endpoint := secretsmanagerlocal.StartForTest(t)
	client := secretsmanagerlocal.Client(endpoint)
	_, err := client.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("short"), SecretString: aws.String("too-short")})
	require.NoError(t, err)

	for name, ref := range map[string]string{"unset": "", "missing": "no-such-secret", "too short": "short"} {
		t.Run(name, func(t *testing.T) {
			v, err := secretsmanager.NewPepper(client, ref).Pepper(ctx)
			require.Error(t, err)
			assert.Nil(t, v)
			assert.Equal(t, credit.CodeInternal, credit.ErrorCode(err))
			assert.NotContains(t, err.Error(), "too-short", "the value is never in an error")
		})
	}
}
