package app_test

import (
	"context"
	"testing"

	"creditanalysis/shared/app"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The template declares the local endpoint variables empty in AWS: an empty
// one must leave the SDK on AWS's own endpoint, a set one must be used.
func TestDynamoDBEndpointVariable(t *testing.T) {
	for _, tt := range []struct {
		name, value string
		want        *string
	}{
		{"empty: AWS's endpoint", "", nil},
		{"set: the stand-in", "http://127.0.0.1:4998", ptr("http://127.0.0.1:4998")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("AWS_REGION", "sa-east-1")
			t.Setenv("AWS_ACCESS_KEY_ID", "x")
			t.Setenv("AWS_SECRET_ACCESS_KEY", "x")
			t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", tt.value)
			cfg, err := app.AWSConfig(context.Background())
			require.NoError(t, err)
			assert.Equal(t, tt.want, app.DynamoDB(cfg).Options().BaseEndpoint)
		})
	}
}

func ptr(s string) *string { return &s }

func TestConfigFromEnv(t *testing.T) {
	t.Setenv("TABLE_NAME", "")
	_, err := app.ConfigFromEnv()
	assert.ErrorContains(t, err, "TABLE_NAME")

	t.Setenv("TABLE_NAME", "t")
	t.Setenv("AUDIT_RETENTION_DAYS", "0")
	_, err = app.ConfigFromEnv()
	assert.ErrorContains(t, err, "AUDIT_RETENTION_DAYS")

	t.Setenv("AUDIT_RETENTION_DAYS", "30")
	t.Setenv("LOG_LEVEL", "debug")
	cfg, err := app.ConfigFromEnv()
	require.NoError(t, err)
	assert.Equal(t, "t", cfg.Table)
	assert.Equal(t, 30*24, int(cfg.AuditRetention.Hours()))
}
