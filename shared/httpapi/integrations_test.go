package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"creditanalysis/shared/credit"
	"creditanalysis/shared/httpapi"
	"creditanalysis/shared/memory"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func integrationsServer(logs *bytes.Buffer) (*httpapi.Server, *memory.Store, *memory.Secrets) {
	store, secrets := memory.New(), memory.NewSecrets()
	n := 0
	svc := &credit.IntegrationService{
		// No fixture of this area reaches the bureau.
		Store: store, Secrets: secrets,
		Now:   func() time.Time { return time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC) },
		NewID: func() string { n++; return fmt.Sprintf("0192f5a0-0000-7000-8000-%012d", n) },
	}
	log := slog.New(slog.NewJSONHandler(logs, nil))
	return httpapi.NewServer(httpapi.Config{Logger: log}, &httpapi.IntegrationsHandler{Service: svc}), store, secrets
}

func integrationEvent(t *testing.T, name string) events.APIGatewayV2HTTPRequest {
	return loadEvent(t, filepath.Join(eventsDir, "integrations", name+".json"))
}

func TestIntegrationsFixtures(t *testing.T) {
	var logs bytes.Buffer
	h, store, secrets := integrationsServer(&logs)
	steps := []struct {
		fixture string
		status  int
		code    string
	}{
		{"get-branch-integration-missing", 404, credit.CodeNotFound},
		{"create-integration-forbidden", 403, httpapi.CodeForbidden},
		{"create-integration-invalid", 400, credit.CodeValidation},
		{"create-integration", 201, ""},
		{"create-integration", 409, credit.CodeBranchAlreadyIntegrated},
		{"get-branch-integration", 200, ""},
		{"list-integrations", 200, ""},
		{"get-integration-missing", 404, credit.CodeNotFound},
		{"update-integration-with-password", 400, credit.CodePasswordsNotChangedHere},
		{"delete-integration-missing", 404, credit.CodeNotFound},
	}
	var answers []string
	for _, s := range steps {
		resp := invoke(t, h, integrationEvent(t, s.fixture))
		answers = append(answers, resp.Body)
		require.Equal(t, s.status, resp.StatusCode, "%s: %s", s.fixture, resp.Body)
		if s.code != "" {
			assert.Equal(t, s.code, errorBody(t, resp.Body).Error.Code, s.fixture)
		}
	}

	t.Run("the invalid create names every bad field", func(t *testing.T) {
		resp := invoke(t, h, integrationEvent(t, "create-integration-invalid"))
		var body struct {
			Error struct {
				Details struct {
					Fields []string `json:"fields"`
				} `json:"details"`
			} `json:"error"`
		}
		require.NoError(t, json.Unmarshal([]byte(resp.Body), &body))
		assert.ElementsMatch(t, []string{"environment", "responsibleCpf", "automation.restrictionCode", "automation.removalCode", "automation.daysAfterDue"}, body.Error.Details.Fields)
	})

	t.Run("the second create has the reference message", func(t *testing.T) {
		assert.Equal(t, "Não foi possível prosseguir. A filial ID filial-7 já possui uma integração vinculada.", errorBody(t, answers[4]).Error.Message)
	})

	t.Run("the answer has no password, says both are set, masks the CPF", func(t *testing.T) {
		var created map[string]any
		require.NoError(t, json.Unmarshal([]byte(answers[3]), &created))
		assert.Equal(t, true, created["consultationPasswordSet"])
		assert.Equal(t, true, created["pefinPasswordSet"])
		assert.Equal(t, "***.982.247-**", created["responsibleCpf"])
		assert.Equal(t, "Carla Admin", created["createdBy"].(map[string]any)["name"])
		assert.NotContains(t, created, "secretRef")
	})

	t.Run("passwords live in the secret store only", func(t *testing.T) {
		for i, a := range answers {
			assert.NotContains(t, a, "Abcd@123", "answer %d", i)
			assert.NotContains(t, a, "135790", "answer %d", i)
		}
		assert.NotContains(t, logs.String(), "Abcd@123")
		assert.NotContains(t, logs.String(), "135790")
		items, _, err := store.ListIntegrations(context.Background(), credit.Page{})
		require.NoError(t, err)
		require.Len(t, items, 1)
		assert.NotContains(t, fmt.Sprintf("%#v", items[0]), "Abcd@123")
		sec, err := secrets.Current(context.Background(), items[0].SecretRef)
		require.NoError(t, err)
		assert.Equal(t, "Abcd@123", sec.ConsultationPassword)
	})
}
