package e2e_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"creditanalysis/infra/apispec"
	"creditanalysis/infra/connectsa-sandbox/sandboxtest"
	"creditanalysis/infra/stack"
	"creditanalysis/shared/credit"
	"creditanalysis/shared/dynamo"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Plans of the consultations and reports functions for TestFunctionsUnderRIE. It runs on a
// fresh stack, before the parameters function turns the master switch on:
// every consultation is refused, reads find nothing.
func init() {
	plans["consultations"] = []step{
		{fixture: "create-consultation", status: 403, code: "credit_analysis_disabled"},
		{fixture: "create-consultation-invalid-document", status: 403, code: "credit_analysis_disabled"},
		{fixture: "create-consultation-viewer-forbidden", status: 403, code: "forbidden"},
		{fixture: "list-consultations", status: 200, body: `{"items":[],"nextCursor":null}`},
		{fixture: "list-consultations-invalid-period", status: 400, code: "validation_failed"},
		{fixture: "get-consultation-missing", status: 404, code: "not_found"},
		{fixture: "list-party-consultations", status: 404, code: "not_found"},
	}
	plans["reports"] = []step{
		{fixture: "get-consultation-pdf", status: 404, code: "not_found"},
		{fixture: "get-consultation-pdf-viewer-forbidden", status: 403, code: "forbidden"},
	}
}

// TestConsultationEndToEnd consults through the consultations function's
// bootstrap under the Lambda Runtime Interface Emulator, on the local stack
// (DynamoDB Local, S3 stand-in, Secrets Manager stand-in, Connect SA
// sandbox): the events/consultations fixtures in the order an analyst would
// send them, every answer checked against openapi.yaml, and the report PDF
// made by the reports function's bootstrap and downloaded through its
// presigned link.
func TestConsultationEndToEnd(t *testing.T) {
	root := moduleRoot(t)
	rie := rieBinary(t, root)
	spec := apispec.Load(t)
	ctx := context.Background()

	st := startStack(t)
	env := st.Env()

	// The rest of the product, in process on the same stack: the switch on,
	// branch filial-7 integrated with a sandbox account, customer cli-1001.
	p := stackApp(t, st, stackConfig(t, st, ""), nil)
	setup, admin := serveAreas(t, p, nil, p.ParametersHandler(), p.IntegrationsHandler(), p.PartiesHandler())
	for _, req := range []struct{ method, path, body string }{
		{"PUT", "/parameters", `{"creditAnalysisEnabled":true,"repeatConsultationIntervalDays":30}`},
		{"POST", "/integrations", `{"intermediary":"connect","branchId":"filial-7","environment":"homologation",
			"login":"` + sandboxtest.Account().Credentials.Login + `","consultationPassword":"Sand@123","pefinPassword":"246802",
			"defaultPlan":"report_score","sendSmsOnInclusion":false,"responsibleCpf":"52998224725","automation":{"enabled":false}}`},
		{"PUT", "/parties/customers/cli-1001", `{"branchId":"filial-7","document":"111.444.777-35","name":"João Cliente","address":{"uf":"MG","cep":"30130010"}}`},
	} {
		resp, body := httpDo(t, req.method, setup+req.path, admin, req.body)
		require.Less(t, resp.StatusCode, 300, "%s %s: %s", req.method, req.path, body)
	}

	// The consultations function, and the reports function that serves the
	// PDFs, each under its own emulator; requests go to the one API Gateway
	// routes them to.
	url := startRIE(t, rie, buildFunction(t, root, "consultations"), env)
	reportsURL := startRIE(t, rie, buildFunction(t, root, "reports"), env)

	type body = map[string]any
	send := func(e events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, body) {
		t.Helper()
		to := url
		if strings.HasSuffix(e.RawPath, "/pdf") {
			to = reportsURL
		}
		return sendChecked(t, spec, to, e, "52998224725", "529.982.247-25", "11144477735", "111.444.777-35")
	}
	fixture := func(name string) events.APIGatewayV2HTTPRequest {
		if strings.HasPrefix(name, "get-consultation-pdf") {
			return loadFixture(t, root, "reports", name)
		}
		return loadFixture(t, root, "consultations", name)
	}
	at := func(name, path, query string) events.APIGatewayV2HTTPRequest {
		e := fixture(name)
		e.RawPath, e.RequestContext.HTTP.Path, e.RawQueryString, e.QueryStringParameters = path, path, query, nil
		return e
	}
	errorCode := func(b body) string { return b["error"].(body)["code"].(string) }

	// A consultation by document: recorded, answered masked; its PDF is
	// made on its first download.
	resp, first := send(fixture("create-consultation"))
	require.Equal(t, 201, resp.StatusCode, resp.Body)
	id := first["id"].(string)
	assert.Equal(t, "succeeded", first["status"])
	assert.Equal(t, "***.982.247-**", first["document"])
	report := first["report"].(body)
	assert.NotEmpty(t, report["protocol"], "the sandbox's protocol")
	assert.NotEmpty(t, report["identity"].(body)["name"])
	assert.NotContains(t, first, "pdfUrl", "no PDF on the consultation's path")

	// The same document again: refused without reaching the bureau, until
	// the analyst confirms.
	resp, repeat := send(fixture("create-consultation"))
	require.Equal(t, 409, resp.StatusCode, resp.Body)
	assert.Equal(t, "repeat_consultation", errorCode(repeat))
	assert.Equal(t, id, repeat["error"].(body)["details"].(body)["previousConsultationId"])
	resp, confirmed := send(fixture("create-consultation-confirm-repeat"))
	require.Equal(t, 201, resp.StatusCode, resp.Body)
	var warnings []string
	for _, w := range confirmed["warnings"].([]any) {
		warnings = append(warnings, w.(body)["code"].(string))
	}
	assert.ElementsMatch(t, []string{"deprecated_plan", "repeat_confirmed"}, warnings)

	// By party: the party's document and UF; the record shows on the party.
	resp, byParty := send(fixture("create-consultation-party"))
	require.Equal(t, 201, resp.StatusCode, resp.Body)
	assert.Equal(t, body{"kind": "customer", "id": "cli-1001"}, byParty["party"])
	assert.Equal(t, "MG", byParty["uf"])

	// The sandbox's 503 document: a recorded failure.
	resp, failed := send(fixture("create-consultation-bureau-unavailable"))
	require.Equal(t, 502, resp.StatusCode, resp.Body)
	assert.Equal(t, "bureau_unavailable", errorCode(failed))
	failedID := failed["error"].(body)["details"].(body)["consultationId"].(string)

	for name, code := range map[string]string{
		"create-consultation-invalid-document":           "invalid_document",
		"create-consultation-uf-required":                "uf_required",
		"create-consultation-branch-without-integration": "branch_without_integration",
		"create-consultation-viewer-forbidden":           "forbidden",
	} {
		_, b := send(fixture(name))
		assert.Equal(t, code, errorCode(b), name)
	}

	// Reading back.
	resp, got := send(at("get-consultation", "/consultations/"+id, ""))
	require.Equal(t, 200, resp.StatusCode, resp.Body)
	assert.Equal(t, report, got["report"], "the recorded report, as answered")
	resp, _ = send(at("get-consultation-viewer", "/consultations/"+failedID, ""))
	require.Equal(t, 200, resp.StatusCode)

	resp, link := send(at("get-consultation-pdf", "/consultations/"+id+"/pdf", ""))
	require.Equal(t, 303, resp.StatusCode, resp.Body)
	assert.Equal(t, link["url"], resp.Headers["Location"])
	expires, err := time.Parse(time.RFC3339, link["expiresAt"].(string))
	require.NoError(t, err)
	assert.WithinDuration(t, time.Now().Add(5*time.Minute), expires, time.Minute)
	pdf := consultDownload(t, resp.Headers["Location"])
	assert.True(t, bytes.HasPrefix(pdf, []byte("%PDF-")), "the link downloads the report PDF")
	assert.Less(t, len(pdf), 200<<10)
	resp, link = send(at("get-consultation-pdf-json", "/consultations/"+id+"/pdf", "format=json"))
	require.Equal(t, 200, resp.StatusCode)
	assert.NotEmpty(t, link["url"])
	resp, none := send(at("get-consultation-pdf", "/consultations/"+failedID+"/pdf", ""))
	require.Equal(t, 404, resp.StatusCode)
	assert.Equal(t, "report_unavailable", errorCode(none))

	// A PDF the bucket lost (its lifecycle expires them) is rendered again.
	objects, err := st.S3().ListObjectsV2(ctx, &awss3.ListObjectsV2Input{Bucket: aws.String(env["REPORT_BUCKET"])})
	require.NoError(t, err)
	var pdfs []s3types.Object
	for _, o := range objects.Contents {
		k := aws.ToString(o.Key)
		// Beside each PDF the bucket keeps the archived report.
		assert.Regexp(t, `^reports/\d{4}/\d{2}/[0-9a-f]{32}\.(pdf|json\.gz)$`, k, "a random key, nothing of the document")
		if strings.HasSuffix(k, ".pdf") {
			pdfs = append(pdfs, o)
		}
	}
	require.Len(t, pdfs, 1, "a PDF only for the consultation whose PDF was asked for")
	for _, o := range pdfs {
		_, err := st.S3().DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: aws.String(env["REPORT_BUCKET"]), Key: o.Key})
		require.NoError(t, err)
	}
	resp, link = send(at("get-consultation-pdf-json", "/consultations/"+id+"/pdf", "format=json"))
	require.Equal(t, 200, resp.StatusCode, resp.Body)
	assert.True(t, bytes.HasPrefix(consultDownload(t, link["url"].(string)), []byte("%PDF-")))

	// The consultation center and the party's list.
	var pages [][]string
	query := "status=succeeded&limit=2"
	for range 5 {
		resp, page := send(at("list-consultations", "/consultations", query))
		require.Equal(t, 200, resp.StatusCode, resp.Body)
		var ids []string
		for _, it := range page["items"].([]any) {
			assert.NotContains(t, it, "report")
			ids = append(ids, it.(body)["id"].(string))
		}
		pages = append(pages, ids)
		if page["nextCursor"] == nil {
			break
		}
		query = "status=succeeded&limit=2&cursor=" + page["nextCursor"].(string)
	}
	require.Len(t, pages, 2)
	assert.Equal(t, []string{byParty["id"].(string), confirmed["id"].(string)}, pages[0], "newest first")
	assert.Equal(t, []string{id}, pages[1])
	// Each page showed names: its read is on the trail under every
	// consultation it showed, the second of a page included.
	trail := dynamo.New(st.Clients().DynamoDB, stack.Table)
	for _, shown := range []string{byParty["id"].(string), confirmed["id"].(string), id} {
		reads, _, err := trail.ListAudit(ctx, credit.AuditFilter{TargetID: shown, Action: "GET /consultations"}, credit.Page{})
		require.NoError(t, err)
		assert.Len(t, reads, 1, "the page that showed %s", shown)
	}
	resp, failures := send(at("list-consultations", "/consultations", "status=failed"))
	require.Equal(t, 200, resp.StatusCode)
	require.Len(t, failures["items"], 1)
	assert.Equal(t, failedID, failures["items"].([]any)[0].(body)["id"])
	resp, onParty := send(fixture("list-party-consultations"))
	require.Equal(t, 200, resp.StatusCode)
	require.Len(t, onParty["items"], 1)
	assert.Equal(t, byParty["id"], onParty["items"].([]any)[0].(body)["id"])
}

// consultDownload fetches a presigned link as a browser would, without
// credentials.
func consultDownload(t *testing.T, link string) []byte {
	t.Helper()
	require.True(t, strings.HasPrefix(link, "http://127.0.0.1:"), "the link points at the local S3: %s", link)
	resp, body := httpDo(t, "GET", link, "", "")
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	return body
}
