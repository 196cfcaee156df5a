package httpapi_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"creditanalysis/shared/credit"
	"creditanalysis/shared/httpapi"
	"creditanalysis/shared/memory"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAuditTrail drives the parameters fixtures through a server with an
// audit log: every state-changing call leaves one event (refusals included),
// reads leave none, and the trail is readable by admins only.
func TestAuditTrail(t *testing.T) {
	log := memory.NewAudit()
	now := time.Date(2026, 11, 26, 15, 0, 0, 0, time.UTC)
	n := 0
	cfg := httpapi.Config{Logger: discardLogger(), Audit: log, Now: func() time.Time { n++; return now.Add(time.Duration(n) * time.Second) }}
	params := &httpapi.ParametersHandler{Service: &credit.ParametersService{Store: memory.New()}}
	h := httpapi.NewServer(cfg, params, &httpapi.AuditHandler{Log: log})
	load := func(name string) { invoke(t, h, loadEvent(t, filepath.Join(eventsDir, "parameters", name+".json"))) }

	load("get-parameters")
	load("put-parameters")
	load("put-parameters-invalid")
	load("put-parameters-forbidden")
	load("health")

	events, _, err := log.ListAudit(context.Background(), credit.AuditFilter{From: now, To: now.Add(time.Hour)}, credit.Page{})
	require.NoError(t, err)
	require.Len(t, events, 3, "PUT ok, PUT invalid, PUT forbidden; no reads")
	byStatus := map[int]credit.AuditEvent{}
	for _, e := range events {
		assert.Equal(t, "PUT /parameters", e.Action)
		assert.NotEmpty(t, e.RequestID)
		byStatus[e.Outcome.Status] = e
	}
	assert.Equal(t, "Carla Admin", byStatus[200].Actor.Name)
	assert.Equal(t, "3c8e5f21-7a4b-4d6e-9f10-2b3c4d5e6f70", byStatus[200].Actor.Subject)
	assert.Equal(t, credit.CodeValidation, byStatus[400].Outcome.Code)
	assert.Equal(t, httpapi.CodeForbidden, byStatus[403].Outcome.Code)
	assert.NotEmpty(t, byStatus[403].Actor.Subject, "a refused caller is named too")

	// Reading the trail: the admin fixture's claims, on GET /audit.
	e := loadEvent(t, filepath.Join(eventsDir, "parameters", "put-parameters.json"))
	e.Body, e.RequestContext.HTTP.Method = "", "GET"
	e.RouteKey, e.RawPath, e.RequestContext.HTTP.Path = "GET /audit", "/audit", "/audit"
	e.RawQueryString = "from=2026-11-26&to=2026-11-26&action=PUT%20/parameters&limit=2"
	resp := invoke(t, h, e)
	require.Equal(t, 200, resp.StatusCode, resp.Body)
	var page struct {
		Items []struct {
			At time.Time `json:"at"`
		} `json:"items"`
		NextCursor *string `json:"nextCursor"`
	}
	require.NoError(t, json.Unmarshal([]byte(resp.Body), &page))
	assert.Len(t, page.Items, 2)
	require.NotNil(t, page.NextCursor)
	assert.True(t, page.Items[0].At.After(page.Items[1].At), "newest first")

	e.RawQueryString = "action=DROP%20TABLE"
	assert.Equal(t, 400, invoke(t, h, e).StatusCode)

	viewer := loadEvent(t, filepath.Join(eventsDir, "parameters", "get-parameters.json"))
	viewer.RouteKey, viewer.RawPath, viewer.RequestContext.HTTP.Path = "GET /audit", "/audit", "/audit"
	viewer.RequestContext.Authorizer.JWT.Claims["cognito:groups"] = "[credit-viewer]"
	assert.Equal(t, 403, invoke(t, h, viewer).StatusCode)
}
