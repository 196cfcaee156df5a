package e2e_test

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"strings"
	"testing"

	"creditanalysis/infra/connectsa-sandbox/sandbox"
	"creditanalysis/infra/connectsa-sandbox/sandboxtest"
	"creditanalysis/shared/credit"
	"creditanalysis/shared/dynamo"

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
	st := startStack(t)
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

// TestIntegrationEditedLikeAForm edits an integration through the local API
// Gateway on DynamoDB Local as an edit form does: a merge patch of one field
// changes only that field, and a full PUT that sends back the CPF masked as
// GET showed it keeps the CPF.
func TestIntegrationEditedLikeAForm(t *testing.T) {
	ctx := context.Background()
	st := startStack(t)
	base := localGateway(t, st, nil)
	admin := token(t, credit.RoleAdmin)

	send := func(method, path, contentType, body string) (int, map[string]any) {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, method, base+path, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+admin)
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var out map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
		return resp.StatusCode, out
	}

	status, created := send("POST", "/integrations", "application/json", `{"intermediary":"connect","branchId":"7","environment":"homologation",
		"login":"provedor-exemplo","consultationPassword":"Sand@123","pefinPassword":"246802","defaultPlan":"report_score",
		"sendSmsOnInclusion":true,"responsibleCpf":"529.982.247-25",
		"automation":{"enabled":true,"restrictionCode":"02","removalCode":"01","daysAfterDue":30}}`)
	require.Equal(t, http.StatusCreated, status, created)
	path := "/integrations/" + created["id"].(string)

	status, before := send("GET", path, "", "")
	require.Equal(t, http.StatusOK, status, before)
	assert.Equal(t, "***.982.247-**", before["responsibleCpf"])

	status, patched := send("PATCH", path, "application/merge-patch+json", `{"automation":{"daysAfterDue":45}}`)
	require.Equal(t, http.StatusOK, status, patched)
	status, after := send("GET", path, "", "")
	require.Equal(t, http.StatusOK, status, after)
	assert.Equal(t, after, patched)
	want := maps.Clone(before)
	want["automation"] = map[string]any{"enabled": true, "restrictionCode": "02", "removalCode": "01", "daysAfterDue": float64(45)}
	want["updatedAt"] = after["updatedAt"]
	assert.Equal(t, want, after, "only the patched field changed")

	// Null on a required field is refused and writes nothing.
	status, refused := send("PATCH", path, "application/merge-patch+json", `{"login":null}`)
	require.Equal(t, http.StatusBadRequest, status, refused)
	assert.Equal(t, []any{"login"}, refused["error"].(map[string]any)["details"].(map[string]any)["fields"])

	// The form sends everything back, the CPF as GET showed it.
	form := maps.Clone(after)
	for _, k := range []string{"id", "consultationPasswordSet", "pefinPasswordSet", "createdAt", "updatedAt", "createdBy", "updatedBy"} {
		delete(form, k)
	}
	form["sendSmsOnInclusion"] = false
	body, err := json.Marshal(form)
	require.NoError(t, err)
	status, put := send("PUT", path, "application/json", string(body))
	require.Equal(t, http.StatusOK, status, put)
	assert.Equal(t, "***.982.247-**", put["responsibleCpf"])
	assert.Equal(t, false, put["sendSmsOnInclusion"])

	store := dynamo.New(st.Clients().DynamoDB, st.Env()["TABLE_NAME"])
	stored, err := store.GetIntegration(ctx, created["id"].(string))
	require.NoError(t, err)
	assert.Equal(t, "52998224725", stored.ResponsibleCPF.Number(), "the CPF is kept, not replaced by its mask")
	assert.Equal(t, 45, stored.Automation.DaysAfterDue)
	assert.Equal(t, "provedor-exemplo", stored.Login)
}
