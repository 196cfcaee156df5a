package app_test

import (
	"context"
	"testing"

	"creditanalysis/shared/app"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The template declares the local endpoint variables empty in AWS: an empty
// one must leave the SDK on AWS's own endpoints, a set one must be used.
func TestAWSClientsEndpointVariables(t *testing.T) {
	t.Setenv("AWS_REGION", "sa-east-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "x")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "x")
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", "")
	t.Setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:4999")
	t.Setenv("S3_FORCE_PATH_STYLE", "false")
	c, err := app.AWSClients(context.Background())
	require.NoError(t, err)
	assert.Nil(t, c.DynamoDB.Options().BaseEndpoint)
	require.NotNil(t, c.S3.Options().BaseEndpoint)
	assert.Equal(t, "http://127.0.0.1:4999", *c.S3.Options().BaseEndpoint)
	assert.False(t, c.S3.Options().UsePathStyle)
}

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
	assert.Equal(t, 90*24, int(cfg.ReportRetention.Hours()), "default report retention")

	for _, v := range []string{"0", "-1", "noventa"} {
		t.Setenv("REPORT_RETENTION_DAYS", v)
		_, err = app.ConfigFromEnv()
		assert.ErrorContains(t, err, "REPORT_RETENTION_DAYS", v)
	}
	t.Setenv("REPORT_RETENTION_DAYS", "45")
	cfg, err = app.ConfigFromEnv()
	require.NoError(t, err)
	assert.Equal(t, 45*24, int(cfg.ReportRetention.Hours()))
}
