package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
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
		{"patch-integration", 404, credit.CodeNotFound},
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
		items, _, err := store.ListIntegrations(context.Background(), nil, credit.Page{})
		require.NoError(t, err)
		require.Len(t, items, 1)
		assert.NotContains(t, fmt.Sprintf("%#v", items[0]), "Abcd@123")
		sec, err := secrets.Current(context.Background(), items[0].SecretRef)
		require.NoError(t, err)
		assert.Equal(t, "Abcd@123", sec.ConsultationPassword)
	})
}

func TestIntegrationsEditLikeAForm(t *testing.T) {
	const full = `{"intermediary":"connect","branchId":"filial-7","environment":"homologation","login":"provedor-exemplo","defaultPlan":"report_score","sendSmsOnInclusion":true,"responsibleCpf":"%s","automation":{"enabled":true,"restrictionCode":"PEF01","removalCode":"BX01","daysAfterDue":30}}`
	tests := []struct {
		name        string
		method      string
		contentType string
		body        string
		status      int
		code        string
		fields      []string
		// changed are the members of the answer that differ from the
		// created integration's (updatedBy and updatedAt aside).
		changed map[string]any
	}{
		{"PATCH one field", "PATCH", httpapi.MergePatchType, `{"defaultPlan":"crednet_top"}`, 200, "", nil,
			map[string]any{"defaultPlan": "crednet_top"}},
		{"PATCH as application/json", "PATCH", "application/json", `{"login":"novo-login"}`, 200, "", nil,
			map[string]any{"login": "novo-login"}},
		{"PATCH merges the automation", "PATCH", httpapi.MergePatchType, `{"automation":{"daysAfterDue":45}}`, 200, "", nil,
			map[string]any{"automation": map[string]any{"enabled": true, "restrictionCode": "PEF01", "removalCode": "BX01", "daysAfterDue": float64(45)}}},
		{"PATCH with the masked CPF", "PATCH", httpapi.MergePatchType, `{"responsibleCpf":"***.982.247-**","sendSmsOnInclusion":false}`, 200, "", nil,
			map[string]any{"sendSmsOnInclusion": false}},
		{"PATCH null on a required field", "PATCH", httpapi.MergePatchType, `{"login":null}`, 400, credit.CodeValidation, []string{"login"}, nil},
		{"PATCH null on a nested required field", "PATCH", httpapi.MergePatchType, `{"automation":{"enabled":null}}`, 400, credit.CodeValidation, []string{"automation.enabled"}, nil},
		{"PATCH null automation", "PATCH", httpapi.MergePatchType, `{"automation":null}`, 400, credit.CodeValidation, []string{"automation"}, nil},
		{"PATCH unknown field", "PATCH", httpapi.MergePatchType, `{"plan":"all"}`, 400, httpapi.CodeUnknownField, []string{"plan"}, nil},
		{"PATCH unknown nested field", "PATCH", httpapi.MergePatchType, `{"automation":{"days":3}}`, 400, httpapi.CodeUnknownField, []string{"automation.days"}, nil},
		{"PATCH wrong type", "PATCH", httpapi.MergePatchType, `{"sendSmsOnInclusion":"yes"}`, 400, httpapi.CodeInvalidType, []string{"sendSmsOnInclusion"}, nil},
		{"PATCH invalid value", "PATCH", httpapi.MergePatchType, `{"environment":"test"}`, 400, credit.CodeValidation, []string{"environment"}, nil},
		{"PATCH another masked CPF", "PATCH", httpapi.MergePatchType, `{"responsibleCpf":"***.444.777-**"}`, 400, credit.CodeValidation, []string{"responsibleCpf"}, nil},
		{"PATCH a password", "PATCH", httpapi.MergePatchType, `{"pefinPassword":"Nova@123"}`, 400, credit.CodePasswordsNotChangedHere, nil, nil},
		{"PATCH a null password", "PATCH", httpapi.MergePatchType, `{"consultationPassword":null}`, 400, credit.CodePasswordsNotChangedHere, nil, nil},
		{"PATCH as text", "PATCH", "text/plain", `{"login":"x"}`, 400, httpapi.CodeUnsupportedMT, nil, nil},
		{"PATCH not an object", "PATCH", httpapi.MergePatchType, `[]`, 400, httpapi.CodeInvalidType, nil, nil},
		{"PUT with the masked CPF", "PUT", "application/json", fmt.Sprintf(full, "***.982.247-**"), 200, "", nil, map[string]any{}},
		{"PUT with another masked CPF", "PUT", "application/json", fmt.Sprintf(full, "***.444.777-**"), 400, credit.CodeValidation, []string{"responsibleCpf"}, nil},
		{"PUT as a merge patch", "PUT", httpapi.MergePatchType, fmt.Sprintf(full, "***.982.247-**"), 400, httpapi.CodeUnsupportedMT, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			h, store, _ := integrationsServer(&logs)
			created := invoke(t, h, integrationEvent(t, "create-integration"))
			require.Equal(t, 201, created.StatusCode, created.Body)
			var before map[string]any
			require.NoError(t, json.Unmarshal([]byte(created.Body), &before))
			id := before["id"].(string)
			stored, err := store.GetIntegration(context.Background(), id)
			require.NoError(t, err)

			resp := invoke(t, h, request(tt.method, "/integrations/"+id, "", admin, tt.contentType, tt.body))
			require.Equal(t, tt.status, resp.StatusCode, resp.Body)
			if tt.status != 200 {
				e := errorBody(t, resp.Body)
				assert.Equal(t, tt.code, e.Error.Code)
				if tt.fields != nil {
					assert.ElementsMatch(t, tt.fields, e.Error.Details["fields"])
				}
				after, err := store.GetIntegration(context.Background(), id)
				require.NoError(t, err)
				assert.Equal(t, stored, after, "nothing is written on a refusal")
				return
			}
			var got map[string]any
			require.NoError(t, json.Unmarshal([]byte(resp.Body), &got))
			want := maps.Clone(before)
			maps.Copy(want, tt.changed)
			for _, k := range []string{"updatedAt", "updatedBy"} {
				delete(want, k)
				delete(got, k)
			}
			assert.Equal(t, want, got)
		})
	}
}
