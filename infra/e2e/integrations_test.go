package e2e_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"creditanalysis/infra/connectsa-sandbox/sandbox"
	"creditanalysis/infra/connectsa-sandbox/sandboxtest"
	"creditanalysis/infra/stack"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestIntegrationCredentialsLiveOnlyInSecretsManager runs the integrations
// area on the real adapters (DynamoDB Local, the Secrets Manager stand-in,
// the Connect SA sandbox) behind the local API Gateway, and checks that the
// passwords reach Secrets Manager and nothing else: not the table, not an
// answer, not a log line.
func TestIntegrationCredentialsLiveOnlyInSecretsManager(t *testing.T) {
	ctx := context.Background()
	st, err := stack.Start(ctx, stack.Options{InMemory: true})
	require.NoError(t, err)
	t.Cleanup(st.Stop)
	_, bureauURL := sandboxtest.Start(t, sandbox.Config{})

	cfg := stackConfig(t, st, bureauURL)
	cfg.Bureau.Secrets.Prefix = "e2e/integrations/"
	var logs syncBuffer
	p := stackApp(t, st, cfg, jsonLogger(&logs))
	base, admin := serveAreas(t, p, jsonLogger(&logs), p.IntegrationsHandler())

	const consultation, pefin = "Sand@123", "246802"
	var answers []string
	call := func(method, path, body string) (int, map[string]any) {
		t.Helper()
		resp, raw := httpDo(t, method, base+path, admin, body)
		answers = append(answers, string(raw))
		var out map[string]any
		_ = json.Unmarshal(raw, &out)
		return resp.StatusCode, out
	}

	status, created := call("POST", "/integrations", `{"intermediary":"connect","branchId":"matriz","environment":"homologation",
		"login":"`+sandboxtest.Account().Credentials.Login+`","consultationPassword":"`+consultation+`","pefinPassword":"`+pefin+`",
		"defaultPlan":"all","sendSmsOnInclusion":false,"responsibleCpf":"52998224725",
		"automation":{"enabled":false}}`)
	require.Equal(t, http.StatusCreated, status, answers[0])
	id := created["id"].(string)

	status, test := call("POST", "/integrations/"+id+"/connection-test", "")
	require.Equal(t, http.StatusOK, status, answers[len(answers)-1])
	assert.Equal(t, true, test["ok"], "the sandbox enrolls the account with the stored passwords: %v", test)

	status, plans := call("GET", "/integrations/"+id+"/plans", "")
	require.Equal(t, http.StatusOK, status)
	deprecated := map[string]bool{}
	for _, p := range plans["items"].([]any) {
		p := p.(map[string]any)
		deprecated[p["code"].(string)] = p["deprecated"].(bool)
	}
	assert.Equal(t, map[string]bool{"negative_indicator": true, "crednet_top": true, "report_score": false}, deprecated)

	for _, path := range []string{"/restriction-codes", "/removal-codes"} {
		status, codes := call("GET", "/integrations/"+id+path, "")
		require.Equal(t, http.StatusOK, status, path)
		assert.NotEmpty(t, codes["items"], path)
	}

	// The table holds the secret's ARN and no password. (A scan here is the
	// test looking at everything; no request path scans.)
	out, err := st.Clients().DynamoDB.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(cfg.App.Table)})
	require.NoError(t, err)
	dump, err := json.Marshal(out.Items)
	require.NoError(t, err)
	assert.Contains(t, string(dump), "arn:aws:secretsmanager:")
	for _, secret := range []string{consultation, pefin} {
		assert.NotContains(t, string(dump), secret, "DynamoDB")
		assert.NotContains(t, logs.String(), secret, "logs")
		for i, a := range answers {
			assert.NotContains(t, a, secret, "answer %d", i)
		}
	}
	assert.NotContains(t, logs.String(), "52998224725", "no full CPF in the logs")

	// Deleting the integration schedules its secret's deletion.
	status, _ = call("DELETE", "/integrations/"+id, "")
	require.Equal(t, http.StatusNoContent, status)
	desc, err := st.SecretsManager().DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("e2e/integrations/" + id)})
	require.NoError(t, err)
	assert.NotNil(t, desc.DeletedDate, "the secret is scheduled for deletion")
	assert.True(t, strings.HasPrefix(aws.ToString(desc.Name), "e2e/integrations/"))
}
