package app_test

import (
	"context"
	"testing"

	"creditanalysis/shared/app"
	"creditanalysis/shared/credit"
	"creditanalysis/shared/httpapi"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// lambdaEnv is what Lambda sets for the SDK, with every endpoint variable
// cleared.
func lambdaEnv(t *testing.T) {
	t.Setenv("AWS_REGION", "sa-east-1")
	t.Setenv("AWS_DEFAULT_REGION", "")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_SESSION_TOKEN", "token")
	t.Setenv("AWS_ENDPOINT_URL", "")
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", "")
}

func TestAWSConfigFromLambdaEnvironment(t *testing.T) {
	lambdaEnv(t)
	cfg, err := app.AWSConfig()
	require.NoError(t, err)
	assert.Equal(t, "sa-east-1", cfg.Region)
	creds, err := cfg.Credentials.Retrieve(context.Background())
	require.NoError(t, err)
	assert.Equal(t, aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret", SessionToken: "token", Source: creds.Source}, creds)

	for _, tt := range []struct{ name, unset, want string }{
		{"no region", "AWS_REGION", "AWS_REGION"},
		{"no key id", "AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID"},
		{"no secret", "AWS_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(tt.unset, "")
			_, err := app.AWSConfig()
			assert.ErrorContains(t, err, tt.want)
		})
	}
	t.Run("region from AWS_DEFAULT_REGION", func(t *testing.T) {
		t.Setenv("AWS_REGION", "")
		t.Setenv("AWS_DEFAULT_REGION", "us-east-1")
		cfg, err := app.AWSConfig()
		require.NoError(t, err)
		assert.Equal(t, "us-east-1", cfg.Region)
	})
}

// The template declares the local endpoint variables empty in AWS: an empty
// one must leave the SDK on AWS's own endpoint, a set one must be used, and
// a service's own variable wins over AWS_ENDPOINT_URL.
func TestDynamoDBEndpointVariables(t *testing.T) {
	for _, tt := range []struct {
		name, all, dynamodb string
		want                *string
	}{
		{"empty: AWS's endpoint", "", "", nil},
		{"the service's own", "", "http://127.0.0.1:4998", aws.String("http://127.0.0.1:4998")},
		{"every service's", "http://127.0.0.1:4997", "", aws.String("http://127.0.0.1:4997")},
		{"the service's own first", "http://127.0.0.1:4997", "http://127.0.0.1:4998", aws.String("http://127.0.0.1:4998")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			lambdaEnv(t)
			t.Setenv("AWS_ENDPOINT_URL", tt.all)
			t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", tt.dynamodb)
			cfg, err := app.AWSConfig()
			require.NoError(t, err)
			assert.Equal(t, tt.want, app.DynamoDB(cfg).Options().BaseEndpoint)
		})
	}
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
	assert.Equal(t, httpapi.DefaultRoleGroups, cfg.RoleGroups, "default role groups")

	t.Setenv("ROLE_GROUPS", "admin=IT admin")
	_, err = app.ConfigFromEnv()
	assert.ErrorContains(t, err, "ROLE_GROUPS")
	t.Setenv("ROLE_GROUPS", "admin=TI,viewer=Leitura")
	cfg, err = app.ConfigFromEnv()
	require.NoError(t, err)
	assert.Equal(t, httpapi.RoleGroups{"TI": credit.RoleAdmin, "Leitura": credit.RoleViewer}, cfg.RoleGroups)
}
