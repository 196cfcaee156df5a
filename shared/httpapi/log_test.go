package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"creditanalysis/shared/credit"
	"creditanalysis/shared/credit/credittest"
	"creditanalysis/shared/httpapi"
	"creditanalysis/shared/memory"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every line written while a request is served names it, the domain's own
// lines included: here the negativation service logs the bureau's failure.
func TestEveryLineOfARequestCarriesItsID(t *testing.T) {
	ctx := context.Background()
	var logs bytes.Buffer
	log := slog.New(credit.NewLogHandler(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))

	store := memory.New()
	require.NoError(t, store.PutParameters(ctx, credit.Parameters{CreditAnalysisEnabled: true}))
	bureau := credittest.NewFakeBureau()
	bureau.IncludeFault = func(credit.NegativationRequest) (bool, error) {
		return false, credit.BureauUnavailable(errors.New("HTTP 503"))
	}
	now := func() time.Time { return negativationsNow }
	secrets := memory.NewSecrets()
	access := &credit.BureauAccess{Secrets: secrets, Registry: bureau, Log: log}
	integrations := &credit.IntegrationService{Store: store, Secrets: secrets, Bureau: access, Now: now,
		NewID: func() string { return "int-filial-7" }, Log: log}
	_, err := integrations.Create(ctx, credit.NewIntegration{
		IntegrationSettings: credit.IntegrationSettings{
			Intermediary: credit.IntermediaryConnect, BranchID: "filial-7", Environment: credit.EnvironmentHomologation,
			Login: "provedor", DefaultPlan: credit.PlanReportScore, ResponsibleCPF: "529.982.247-25",
			Automation: credit.Automation{RestrictionCode: "01", RemovalCode: "01"},
		},
		ConsultationPassword: "Abcd@123", PEFINPassword: "135790",
	})
	require.NoError(t, err)
	c := credittest.NewTestCustomer("cli-1001", "filial-7")
	_, err = store.PutParty(ctx, c)
	require.NoError(t, err)
	for _, id := range []string{"fat-55", "fat-56"} {
		require.NoError(t, store.PutInvoice(ctx, credittest.NewTestInvoice(c, id, credit.NewDate(2026, 9, 10), 12990)))
	}
	n := 0
	svc := &credit.NegativationService{Store: store, Parties: store, Parameters: store, Integrations: store, Bureau: access,
		Now: now, NewID: func() string { n++; return fmt.Sprintf("neg-%04d", n) }, Log: log}

	cases := []struct {
		name    string
		invoice string
		// serverLog is the server's logger; the server adds the request's
		// attributes even to one built without credit.NewLogHandler.
		serverLog *slog.Logger
	}{
		{name: "the app's logger", invoice: "fat-55", serverLog: log},
		{name: "a plain JSON logger", invoice: "fat-56", serverLog: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := httpapi.NewServer(httpapi.Config{Logger: tc.serverLog}, &httpapi.NegativationsHandler{Service: svc})
			logs.Reset()
			lctx := lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: "aws-req-9"})
			// Where the runtime library puts the invocation's trace header.
			lctx = context.WithValue(lctx, "x-amzn-trace-id", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0") //nolint:staticcheck // the library's own key
			resp, err := httpapi.LambdaHandler(h).ProxyWithContext(lctx, request(http.MethodPost, "/negativations", "",
				[]credit.Role{credit.RoleCollector}, "application/json", `{"customerId":"cli-1001","invoiceId":"`+tc.invoice+`"}`))
			require.NoError(t, err)
			require.Equal(t, http.StatusBadGateway, resp.StatusCode, resp.Body)

			msgs := map[string]int{}
			for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
				var m map[string]any
				require.NoError(t, json.Unmarshal([]byte(line), &m), line)
				msgs[m["msg"].(string)]++
				assert.Equal(t, "req-123", m["requestId"], line)
				assert.Equal(t, "aws-req-9", m["awsRequestId"], line)
				assert.Equal(t, "1-5759e988-bd862e3fe1be46a994272793", m["traceId"], line)
				assert.Equal(t, 1, strings.Count(line, `"requestId":`), line)
			}
			assert.Equal(t, 1, msgs["negativation inclusion failed"], "the domain's line: %v", msgs)
			assert.Equal(t, 1, msgs["request"], "the server's line: %v", msgs)
		})
	}
}
