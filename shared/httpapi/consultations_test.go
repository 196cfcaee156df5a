package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"creditanalysis/infra/apispec"
	"creditanalysis/shared/credit"
	"creditanalysis/shared/credit/credittest"
	"creditanalysis/shared/httpapi"
	"creditanalysis/shared/memory"
	"creditanalysis/shared/pdf"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// consultationBureau answers every consultation with the full fixture
// report, except for the sandbox's "503" document.
type consultationBureau struct {
	mu    sync.Mutex
	calls int
}

func (b *consultationBureau) Consult(_ context.Context, _ credit.BureauAccount, q credit.ConsultQuery) (credit.Report, error) {
	b.mu.Lock()
	b.calls++
	b.mu.Unlock()
	if q.Document.Number() == "10000000795" {
		return credit.Report{}, credit.BureauUnavailable(errors.New("HTTP 503"))
	}
	return credittest.FullReport(), nil
}

func (b *consultationBureau) Plans(context.Context, credit.BureauAccount) ([]credit.BureauPlan, error) {
	return []credit.BureauPlan{{Plan: credit.PlanCrednetTop}, {Plan: credit.PlanReportScore}}, nil
}

// memoryReports is a report store in a map whose links name the key.
type memoryReports struct {
	mu      sync.Mutex
	objects map[string][]byte
}

func (m *memoryReports) Put(_ context.Context, key string, b []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.objects[key] = b
	return nil
}

func (m *memoryReports) Delete(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.objects, key)
	return nil
}

func (m *memoryReports) Exists(_ context.Context, key string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.objects[key]
	return ok, nil
}

func (m *memoryReports) PresignGet(_ context.Context, key string, ttl time.Duration) (string, time.Time, error) {
	return fmt.Sprintf("https://reports.example/%s?X-Amz-Expires=%d", key, int(ttl.Seconds())), consultationNow.Add(ttl), nil
}

var consultationNow = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// consultationsServer is the consultations function's handler on fakes:
// switch on, interval 30 days, branch filial-7 integrated, customer
// cli-1001 (CPF 111.444.777-35, MG).
func consultationsServer(t *testing.T, logs *bytes.Buffer) (*httpapi.Server, *memoryReports, *consultationBureau) {
	t.Helper()
	svc, reports, bureau := consultationsService(t, logs)
	return consultationsHandler(svc, logs), reports, bureau
}

func consultationsHandler(svc *credit.ConsultationService, logs *bytes.Buffer) *httpapi.Server {
	return httpapi.NewServer(httpapi.Config{Logger: slog.New(slog.NewJSONHandler(logs, nil))}, &httpapi.ConsultationsHandler{Service: svc}, &httpapi.ReportsHandler{Service: svc})
}

// consultationEvent loads a fixture of the consultation center's routes:
// the consultations function's, or the reports function's (the PDFs).
func consultationEvent(t *testing.T, name string) events.APIGatewayV2HTTPRequest {
	t.Helper()
	for _, function := range []string{"consultations", "reports"} {
		path := filepath.Join(eventsDir, function, name+".json")
		if _, err := os.Stat(path); err == nil {
			return loadEvent(t, path)
		}
	}
	t.Fatalf("no fixture %s in events/consultations or events/reports", name)
	return events.APIGatewayV2HTTPRequest{}
}

// consultationsService is the service behind consultationsServer.
func consultationsService(t *testing.T, logs *bytes.Buffer) (*credit.ConsultationService, *memoryReports, *consultationBureau) {
	t.Helper()
	ctx := context.Background()
	store := memory.New()
	require.NoError(t, store.PutParameters(ctx, credit.Parameters{CreditAnalysisEnabled: true, RepeatConsultationIntervalDays: 30}))
	log := slog.New(slog.NewJSONHandler(logs, nil))
	bureau := &consultationBureau{}
	now := func() time.Time { return consultationNow }
	secrets := memory.NewSecrets()
	access := &credit.BureauAccess{Secrets: secrets, Consultation: bureau, Log: log}
	integrations := &credit.IntegrationService{Store: store, Secrets: secrets, Bureau: access, Now: now, NewID: func() string { return "int-7" }, Log: log}
	_, err := integrations.Create(ctx, credit.NewIntegration{
		IntegrationSettings: credit.IntegrationSettings{Intermediary: credit.IntermediaryConnect, BranchID: "filial-7",
			Environment: credit.EnvironmentHomologation, Login: "provedor", DefaultPlan: credit.PlanReportScore, ResponsibleCPF: "52998224725"},
		ConsultationPassword: "Abcd@123", PEFINPassword: "135790",
	})
	require.NoError(t, err)
	customer := credittest.NewTestCustomer("cli-1001", "filial-7")
	customer.Document, customer.Address.UF = credit.MustParseDocument("111.444.777-35"), "MG"
	_, err = store.PutParty(ctx, customer)
	require.NoError(t, err)

	n := 0
	reports := &memoryReports{objects: map[string][]byte{}}
	svc := &credit.ConsultationService{
		Parameters: store, Integrations: integrations, Parties: store, Store: memory.NewConsultations(),
		Bureau: access, Reports: reports, Renderer: pdf.Renderer{}, Now: now,
		NewID: func() string { n++; return fmt.Sprintf("cons-%04d", n) }, Log: log,
	}
	return svc, reports, bureau
}

func TestConsultationsFixtures(t *testing.T) {
	var logs bytes.Buffer
	h, reports, bureau := consultationsServer(t, &logs)
	type body = map[string]any
	warningCodes := func(b body) []string {
		var out []string
		for _, w := range b["warnings"].([]any) {
			out = append(out, w.(body)["code"].(string))
		}
		return out
	}
	steps := []struct {
		fixture string
		status  int
		code    string
		check   func(t *testing.T, b body, headers map[string]string)
	}{
		{"create-consultation", 201, "", func(t *testing.T, b body, hd map[string]string) {
			assert.Equal(t, "cons-0001", b["id"])
			assert.Equal(t, "/consultations/cons-0001", hd["Location"])
			assert.Equal(t, "succeeded", b["status"])
			assert.Equal(t, "***.982.247-**", b["document"], "the document is answered masked")
			assert.Equal(t, "cpf", b["documentType"])
			assert.Equal(t, "report_score", b["plan"])
			assert.Equal(t, "int-7", b["integrationId"])
			assert.Equal(t, "filial-7", b["branchId"])
			assert.Equal(t, "homologation", b["environment"])
			assert.Equal(t, body{"sub": "8d2e4f6a-1b3c-4d5e-9f7a-2b4c6d8e0f1a", "name": "Ana Análise"}, b["requestedBy"])
			assert.Equal(t, []any{}, b["warnings"])
			assert.NotContains(t, b, "party")
			report := b["report"].(body)
			assert.Equal(t, body{"value": 412.0, "class": "D", "defaultProbability": 2375.0, "message": "Risco de inadimplência acima da média."}, report["score"])
			for _, section := range []string{"pendencies", "protests", "badCheques", "lawsuits", "bankruptcies", "previousConsultations", "identity"} {
				assert.Contains(t, report, section)
			}
			assert.NotContains(t, report, "raw", "the bureau's raw answer stays in the record")
			assert.EqualValues(t, 100132446, report["pendencies"].(body)["summary"].(body)["totalCents"])
			assert.NotContains(t, b, "pdfUrl", "the PDF is made on its first download, not before answering")
			assert.Equal(t, body{"name": "Maria da Conceição Araújo", "score": 412.0, "scoreClass": "D", "occurrences": 7.0, "nothingRecorded": false, "pendenciesTotalCents": 100132446.0}, b["overview"])
		}},
		{"create-consultation", 409, credit.CodeRepeatConsultation, func(t *testing.T, b body, _ map[string]string) {
			d := b["error"].(body)["details"].(body)
			assert.Equal(t, "cons-0001", d["previousConsultationId"])
			assert.Equal(t, "2026-11-26T12:00:00Z", d["previousAt"])
		}},
		{"create-consultation-confirm-repeat", 201, "", func(t *testing.T, b body, _ map[string]string) {
			assert.Equal(t, "cons-0002", b["id"])
			assert.Equal(t, "crednet_top", b["plan"])
			assert.Equal(t, []string{credit.WarningDeprecatedPlan, credit.WarningRepeatConfirmed}, warningCodes(b))
		}},
		{"create-consultation-party", 201, "", func(t *testing.T, b body, _ map[string]string) {
			assert.Equal(t, body{"kind": "customer", "id": "cli-1001"}, b["party"])
			assert.Equal(t, "***.444.777-**", b["document"])
			assert.Equal(t, "MG", b["uf"], "the party's UF")
		}},
		{"create-consultation-invalid-document", 400, credit.CodeInvalidDocument, nil},
		{"create-consultation-uf-required", 400, credit.CodeUFRequired, nil},
		{"create-consultation-branch-without-integration", 422, credit.CodeBranchWithoutIntegration, nil},
		{"create-consultation-bureau-unavailable", 502, credit.CodeBureauUnavailable, func(t *testing.T, b body, _ map[string]string) {
			assert.Equal(t, "cons-0004", b["error"].(body)["details"].(body)["consultationId"], "the failure is recorded")
		}},
		{"create-consultation-viewer-forbidden", 403, httpapi.CodeForbidden, nil},
		{"get-consultation", 200, "", func(t *testing.T, b body, _ map[string]string) {
			assert.Equal(t, "cons-0001", b["id"])
			assert.Contains(t, b, "report")
			assert.NotContains(t, b, "pdfUrl", "links are signed on demand, by the pdf route")
			assert.NotContains(t, b, "pdfKey")
		}},
		{"get-consultation-viewer", 200, "", func(t *testing.T, b body, _ map[string]string) {
			assert.Equal(t, "***.982.247-**", b["document"])
			assert.NotContains(t, b, "report", "a viewer does not read reports")
			assert.Equal(t, body{"occurrences": 7.0, "nothingRecorded": false, "pendenciesTotalCents": 100132446.0}, b["overview"],
				"the overview's counts and totals, without name or score")
			for _, field := range []string{"id", "createdAt", "status", "plan", "requestedBy"} {
				assert.Contains(t, b, field)
			}
			assert.NotContains(t, fmt.Sprint(b), "Maria", "no name anywhere")
		}},
		{"get-consultation-missing", 404, credit.CodeNotFound, nil},
		{"get-consultation-pdf", 303, "", func(t *testing.T, b body, hd map[string]string) {
			assert.Regexp(t, `^https://reports\.example/reports/`, hd["Location"])
			assert.Equal(t, hd["Location"], b["url"])
			assert.Equal(t, "no-store", hd["Cache-Control"])
		}},
		{"get-consultation-pdf-json", 200, "", func(t *testing.T, b body, _ map[string]string) {
			assert.Regexp(t, `X-Amz-Expires=300$`, b["url"])
			assert.Equal(t, "2026-11-26T12:05:00Z", b["expiresAt"])
		}},
		{"get-consultation-pdf-viewer-forbidden", 403, httpapi.CodeForbidden, nil},
		{"list-consultations", 200, "", func(t *testing.T, b body, _ map[string]string) {
			items := b["items"].([]any)
			require.Len(t, items, 2)
			assert.Equal(t, "cons-0003", items[0].(body)["id"], "newest first; ties by id")
			assert.Equal(t, "cons-0002", items[1].(body)["id"])
			assert.NotContains(t, items[0], "report", "lists carry the overview only")
			assert.Contains(t, items[0].(body)["overview"], "name", "an analyst's list shows the overview")
			assert.NotNil(t, b["nextCursor"])
		}},
		{"list-consultations-invalid-period", 400, credit.CodeValidation, nil},
		{"list-party-consultations", 200, "", func(t *testing.T, b body, _ map[string]string) {
			items := b["items"].([]any)
			require.Len(t, items, 1)
			assert.Equal(t, "cons-0003", items[0].(body)["id"])
			assert.Nil(t, b["nextCursor"])
			overview := items[0].(body)["overview"].(body)
			assert.NotContains(t, overview, "name", "a viewer's list names no one")
			assert.NotContains(t, overview, "score")
			assert.Contains(t, overview, "occurrences")
		}},
	}
	spec := apispec.Load(t)
	for _, s := range steps {
		e := consultationEvent(t, s.fixture)
		resp := invoke(t, h, e)
		require.Equal(t, s.status, resp.StatusCode, "%s: %s", s.fixture, resp.Body)
		header := http.Header{}
		for k, v := range resp.Headers {
			header.Set(k, v)
		}
		path := e.RawPath
		if e.RawQueryString != "" {
			path += "?" + e.RawQueryString
		}
		spec.ValidateResponse(t, e.RequestContext.HTTP.Method, path, resp.StatusCode, header, []byte(resp.Body))
		if s.code != "" {
			eb := errorBody(t, resp.Body)
			assert.Equal(t, s.code, eb.Error.Code, s.fixture)
			assert.Equal(t, e.RequestContext.RequestID, eb.RequestID)
		}
		if s.check != nil {
			var b body
			require.NoError(t, json.Unmarshal([]byte(resp.Body), &b), s.fixture)
			s.check(t, b, resp.Headers)
		}
		for _, full := range []string{"52998224725", "529.982.247-25", "11144477735"} {
			assert.NotContains(t, resp.Body, full, "%s: no full document in an answer", s.fixture)
		}
	}
	assert.Equal(t, 4, bureau.calls, "refusals never reach the bureau")
	assert.Len(t, reports.objects, 1, "a PDF only for the consultation whose PDF was asked for")
	for _, full := range []string{"52998224725", "11144477735", "10000000795"} {
		assert.NotContains(t, logs.String(), full, "no full document in the logs")
	}
	names := append(fixtures(t, "consultations"), fixtures(t, "reports")...)
	for _, s := range steps {
		assert.Contains(t, names, s.fixture)
	}
	// The erasure's fixtures run in TestPartyErasure.
	assert.Len(t, names, len(steps)-1+2, "every fixture has a step (create-consultation runs twice)")
}

func TestConsultationsListFollowsCursorsAndFilters(t *testing.T) {
	var logs bytes.Buffer
	h, _, _ := consultationsServer(t, &logs)
	for _, f := range []string{"create-consultation", "create-consultation-party", "create-consultation-bureau-unavailable"} {
		require.Less(t, invoke(t, h, consultationEvent(t, f)).StatusCode, 503)
	}
	list := func(query string) (int, map[string]any) {
		e := consultationEvent(t, "list-consultations")
		e.RawQueryString, e.QueryStringParameters = query, nil
		resp := invoke(t, h, e)
		var b map[string]any
		require.NoError(t, json.Unmarshal([]byte(resp.Body), &b))
		return resp.StatusCode, b
	}
	ids := func(b map[string]any) []string {
		var out []string
		for _, it := range b["items"].([]any) {
			out = append(out, it.(map[string]any)["id"].(string))
		}
		return out
	}
	var all []string
	query := "limit=1"
	for range 5 {
		status, b := list(query)
		require.Equal(t, 200, status, b)
		all = append(all, ids(b)...)
		if b["nextCursor"] == nil {
			break
		}
		query = "limit=1&cursor=" + b["nextCursor"].(string)
	}
	assert.Equal(t, []string{"cons-0003", "cons-0002", "cons-0001"}, all)

	for q, want := range map[string][]string{
		"status=failed":                                   {"cons-0003"},
		"document=529.982.247-25":                         {"cons-0001"},
		"document=11144477735&integrationId=int-7":        {"cons-0002"},
		"from=2026-11-26&to=2026-11-26&plan=report_score": {"cons-0003", "cons-0002", "cons-0001"},
		"from=2026-11-27":                                 nil,
	} {
		status, b := list(q)
		require.Equal(t, 200, status, q)
		assert.Equal(t, want, ids(b), q)
	}
	for q, code := range map[string]string{
		"document=123":        credit.CodeInvalidDocument,
		"from=26/11/2026":     httpapi.CodeInvalidParameter,
		"status=pending":      credit.CodeValidation,
		"plan=all":            credit.CodeValidation,
		"integrationId=a%2Fb": httpapi.CodeInvalidParameter,
		"cursor=not-a-cursor": credit.CodeInvalidCursor,
		"limit=0":             httpapi.CodeInvalidParameter,
	} {
		status, b := list(q)
		assert.Equal(t, 400, status, q)
		assert.Equal(t, code, b["error"].(map[string]any)["code"], q)
	}
	_, b := list("format=x")
	assert.NotContains(t, b, "error", "unknown parameters are ignored")
	assert.False(t, strings.Contains(logs.String(), "52998224725"))
}

func TestConsultationReportExpired(t *testing.T) {
	var logs bytes.Buffer
	svc, reports, _ := consultationsService(t, &logs)
	svc.ReportRetention = 90 * 24 * time.Hour
	now := consultationNow
	svc.Now = func() time.Time { return now }
	h := consultationsHandler(svc, &logs)
	spec := apispec.Load(t)
	type body = map[string]any
	call := func(t *testing.T, fixture string) (int, body) {
		t.Helper()
		e := consultationEvent(t, fixture)
		resp := invoke(t, h, e)
		path := e.RawPath
		if e.RawQueryString != "" {
			path += "?" + e.RawQueryString
		}
		header := http.Header{}
		for k, v := range resp.Headers {
			header.Set(k, v)
		}
		spec.ValidateResponse(t, e.RequestContext.HTTP.Method, path, resp.StatusCode, header, []byte(resp.Body))
		var b body
		require.NoError(t, json.Unmarshal([]byte(resp.Body), &b), fixture)
		return resp.StatusCode, b
	}
	status, _ := call(t, "create-consultation")
	require.Equal(t, 201, status)
	assert.Empty(t, reports.objects, "the PDF is made on its first download")
	const rendered = 1

	for _, tc := range []struct {
		name    string
		at      time.Time
		pdf     int
		expired bool
	}{
		{"within the retention", consultationNow.Add(90*24*time.Hour - time.Minute), 200, false},
		{"past the retention", consultationNow.Add(90 * 24 * time.Hour), 410, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now = tc.at
			clear(reports.objects) // the bucket's lifecycle expires the PDF
			status, b := call(t, "get-consultation-pdf-json")
			require.Equal(t, tc.pdf, status, b)
			status, got := call(t, "get-consultation")
			require.Equal(t, 200, status)
			if !tc.expired {
				assert.Len(t, reports.objects, rendered, "rendered again while retained")
				assert.Contains(t, got, "report")
				assert.NotNil(t, got["overview"])
				return
			}
			e := b["error"].(body)
			assert.Equal(t, credit.CodeReportExpired, e["code"])
			assert.Contains(t, e["message"], "prazo de guarda")
			assert.Equal(t, "cons-0001", e["details"].(body)["consultationId"])
			assert.Empty(t, reports.objects, "never rendered again")

			assert.NotContains(t, got, "report")
			assert.Nil(t, got["overview"])
			assert.Equal(t, "***.982.247-**", got["document"])
			assert.Equal(t, "2026-11-26T12:00:00Z", got["createdAt"])
			assert.Equal(t, "2027-02-24T12:00:00Z", got["reportExpiresAt"])
			assert.Equal(t, "succeeded", got["status"])
			assert.NotEmpty(t, got["protocol"])
			assert.NotEmpty(t, got["requestedBy"])
		})
	}
}
