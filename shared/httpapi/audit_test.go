package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"creditanalysis/infra/apispec"
	"creditanalysis/shared/credit"
	"creditanalysis/shared/httpapi"
	"creditanalysis/shared/memory"

	"github.com/aws/aws-lambda-go/events"

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

// TestReportReadsAreAudited drives the consultations fixtures through a
// server with an audit log: a creation names what it made, every read that
// hands out a report's contents is on the trail and a viewer's read is not,
// and GET /audit?targetId answers who read one report.
func TestReportReadsAreAudited(t *testing.T) {
	var logs bytes.Buffer
	svc, _, _ := consultationsService(t, &logs)
	log := memory.NewAudit()
	n := 0
	cfg := httpapi.Config{Logger: discardLogger(), Audit: log, Now: func() time.Time { n++; return consultationNow.Add(time.Duration(n) * time.Second) }}
	h := httpapi.NewServer(cfg, &httpapi.ConsultationsHandler{Service: svc}, &httpapi.ReportsHandler{Service: svc}, &httpapi.AuditHandler{Log: log})
	load := func(name string) events.APIGatewayV2HTTPRequest {
		return consultationEvent(t, name)
	}
	run := func(e events.APIGatewayV2HTTPRequest) int { return invoke(t, h, e).StatusCode }

	require.Equal(t, 201, run(load("create-consultation")))       // analyst: cons-0001
	require.Equal(t, 201, run(load("create-consultation-party"))) // analyst: cons-0002
	require.Equal(t, 200, run(load("get-consultation")))          // analyst reads cons-0001's report
	require.Equal(t, 200, run(load("get-consultation-viewer")))   // viewer: no report, no event
	require.Equal(t, 303, run(load("get-consultation-pdf")))      // analyst: the PDF
	require.Equal(t, 200, run(load("list-party-consultations")))  // viewer: no names, no event
	require.Equal(t, 200, run(load("list-consultations")))        // analyst: names and scores
	byDoc := load("list-consultations")
	byDoc.RawQueryString = "document=52998224725"
	require.Equal(t, 200, run(byDoc))

	all, _, err := log.ListAudit(context.Background(), credit.AuditFilter{From: consultationNow, To: consultationNow.Add(time.Hour)}, credit.Page{Limit: 100})
	require.NoError(t, err)
	type ev struct {
		Action string
		Target map[string]string
	}
	var got []ev
	for i := len(all) - 1; i >= 0; i-- {
		got = append(got, ev{all[i].Action, all[i].Target})
	}
	assert.Equal(t, []ev{
		{"POST /consultations", map[string]string{"consultationId": "cons-0001", "document": "***.982.247-**"}},
		{"POST /consultations", map[string]string{"consultationId": "cons-0002", "document": "***.444.777-**"}},
		{"GET /consultations/{id}", map[string]string{"id": "cons-0001", "document": "***.982.247-**"}},
		{"GET /consultations/{id}/pdf", map[string]string{"id": "cons-0001"}},
		{"GET /consultations", map[string]string{"consultationIds": "cons-0002,cons-0001"}},
		{"GET /consultations", map[string]string{"consultationIds": "cons-0001", "document": "***.982.247-**"}},
	}, got)

	// Who read cons-0001's report? One call, lists included.
	audit := loadEvent(t, filepath.Join(eventsDir, "audit", "list-audit.json"))
	audit.RawQueryString = "from=2026-11-26&to=2026-11-26&targetId=cons-0001"
	resp := invoke(t, h, audit)
	require.Equal(t, 200, resp.StatusCode, resp.Body)
	var page struct {
		Items []struct {
			Action string            `json:"action"`
			Target map[string]string `json:"target"`
		} `json:"items"`
	}
	require.NoError(t, json.Unmarshal([]byte(resp.Body), &page))
	var actions []string
	for _, it := range page.Items {
		actions = append(actions, it.Action)
	}
	assert.Equal(t, []string{"GET /consultations", "GET /consultations", "GET /consultations/{id}/pdf", "GET /consultations/{id}", "POST /consultations"}, actions,
		"the reads by id, of the PDF and of both lists that showed it")
	header := http.Header{}
	for k, v := range resp.Headers {
		header.Set(k, v)
	}
	apispec.Load(t).ValidateResponse(t, "GET", "/audit?"+audit.RawQueryString, 200, header, []byte(resp.Body))

	audit.RawQueryString = "targetId=" + url.QueryEscape("cons 1")
	resp = invoke(t, h, audit)
	assert.Equal(t, 400, resp.StatusCode)
	assert.Equal(t, httpapi.CodeInvalidParameter, errorBody(t, resp.Body).Error.Code)

	for _, full := range []string{"52998224725", "11144477735"} {
		for _, e := range all {
			assert.NotContains(t, fmt.Sprint(e.Target), full, "documents on the trail are masked")
		}
	}
}
