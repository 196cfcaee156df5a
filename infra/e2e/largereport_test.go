package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"creditanalysis/infra/connectsa-sandbox/sandboxtest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLargeReportEndToEnd: through the local gateway, on DynamoDB Local, the
// S3 stand-in and the sandbox, the sandbox's report of about 2 MB (15,000
// pendencies, far past a table item's 400 KB) is recorded and answered,
// listed, read back whole, and its PDF downloads bounded in size.
func TestLargeReportEndToEnd(t *testing.T) {
	ctx := context.Background()
	st := startStack(t)
	p := stackApp(t, st, stackConfig(t, st, ""), nil)
	api, admin := serveAreas(t, p, nil, p.ParametersHandler(), p.IntegrationsHandler(), p.ConsultationsHandler(), p.ReportsHandler())
	for _, req := range []struct{ method, path, body string }{
		{"PUT", "/parameters", `{"creditAnalysisEnabled":true,"repeatConsultationIntervalDays":30}`},
		{"POST", "/integrations", `{"intermediary":"connect","branchId":"filial-7","environment":"homologation",
			"login":"` + sandboxtest.Account().Credentials.Login + `","consultationPassword":"Sand@123","pefinPassword":"246802",
			"defaultPlan":"report_score","sendSmsOnInclusion":false,"responsibleCpf":"52998224725","automation":{"enabled":false}}`},
	} {
		resp, body := httpDo(t, req.method, api+req.path, admin, req.body)
		require.Less(t, resp.StatusCode, 300, "%s %s: %s", req.method, req.path, body)
	}

	type consultation struct {
		ID       string `json:"id"`
		Status   string `json:"status"`
		Document string `json:"document"`
		Report   struct {
			Protocol   string `json:"protocol"`
			Pendencies struct {
				Summary struct {
					Count int `json:"count"`
				} `json:"summary"`
				Entries []json.RawMessage `json:"entries"`
			} `json:"pendencies"`
		} `json:"report"`
	}
	decode := func(raw []byte, v any) {
		t.Helper()
		require.NoError(t, json.Unmarshal(raw, v), "%.500s", raw)
	}

	resp, raw := httpDo(t, "POST", api+"/consultations", admin, `{"document":"100.000.012-52","branchId":"filial-7","uf":"SP"}`)
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%.500s", raw)
	var created consultation
	decode(raw, &created)
	assert.Equal(t, "succeeded", created.Status)
	assert.Equal(t, "***.000.012-**", created.Document)
	assert.NotEmpty(t, created.Report.Protocol, "the bureau's protocol")
	assert.Equal(t, 15000, created.Report.Pendencies.Summary.Count)

	resp, raw = httpDo(t, "GET", api+"/consultations", admin, "")
	require.Equal(t, http.StatusOK, resp.StatusCode, "%.500s", raw)
	var list struct{ Items []consultation }
	decode(raw, &list)
	var ids []string
	for _, it := range list.Items {
		ids = append(ids, it.ID)
	}
	assert.Contains(t, ids, created.ID, "the consultation is listed")

	resp, raw = httpDo(t, "GET", api+"/consultations/"+created.ID, admin, "")
	require.Equal(t, http.StatusOK, resp.StatusCode, "%.500s", raw)
	var got consultation
	decode(raw, &got)
	assert.Equal(t, created.Report.Protocol, got.Report.Protocol)
	assert.Equal(t, 15000, got.Report.Pendencies.Summary.Count)
	assert.Len(t, got.Report.Pendencies.Entries, 15000, "the whole report, read back from the archive")

	// The PDF: a redirect to a short-lived link, and a bounded document.
	noFollow := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, err := http.NewRequestWithContext(ctx, "GET", api+"/consultations/"+created.ID+"/pdf", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+admin)
	redirect, err := noFollow.Do(req)
	require.NoError(t, err)
	redirect.Body.Close()
	require.Equal(t, http.StatusSeeOther, redirect.StatusCode)
	pdf := consultDownload(t, redirect.Header.Get("Location"))
	assert.True(t, bytes.HasPrefix(pdf, []byte("%PDF-")))
	assert.Less(t, len(pdf), 512<<10, "bounded, whatever the report's size")
	pages := bytes.Count(pdf, []byte("/Type /Page\n"))
	assert.Positive(t, pages)
	assert.LessOrEqual(t, pages, 20)
}
