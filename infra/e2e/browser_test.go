package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"creditanalysis/infra/apigateway"
	"creditanalysis/infra/apispec"
	"creditanalysis/infra/swaggerui"
	"creditanalysis/shared/credit"
	"creditanalysis/shared/httpapi"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// chromium finds a headless-capable Chromium. In CI its absence fails the
// test (.ci/run installs it); elsewhere the test is skipped with a hint.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no Chromium on PATH: the browser test needs it (apt-get install chromium)")
	}
	t.Skip("no Chromium on PATH: install it (apt-get install chromium) to run the browser test; CI=true makes this a failure")
	return ""
}

// browser starts a headless Chromium for t and returns a context to drive
// it, and the URLs of every request the browser made.
func browser(t *testing.T) (context.Context, func() []string) {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.Headless,
		chromedp.NoSandbox, // root in CI containers
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })

	var mu sync.Mutex
	var requests []string
	// Listen starts the browser.
	require.NoError(t, chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok {
			mu.Lock()
			requests = append(requests, e.Request.URL)
			mu.Unlock()
		}
	}))
	return ctx, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), requests...)
	}
}

// browserStep bounds one step in the browser; the browser itself lives as
// long as the test.
const browserStep = 20 * time.Second

// do runs browser actions within browserStep.
func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, browserStep)
	defer cancel()
	require.NoError(t, chromedp.Do(ctx, steps...))
}

// pageServer serves an empty page: an origin for the browser to call the
// API from.
func pageServer(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, "<!doctype html><title>ERP</title><p>ERP frontend</p>")
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// evaluate runs an async JavaScript function body in the page and decodes
// what it returns.
func evaluate(t *testing.T, ctx context.Context, body string, out any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, browserStep)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte]("(async () => {"+body+"})()", chromedp.EvalAwaitPromise))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, out), string(raw))
}

// TestBrowserFrontend drives a real headless Chromium against the product
// behind the local API Gateway on the local stack: a page on an allowed
// origin reads, writes JSON (a preflighted request), reads a refusal's
// error code and the exposed headers; a page on another origin is blocked
// by the browser; /docs renders every operation with no request leaving
// this machine.
func TestBrowserFrontend(t *testing.T) {
	ctx, requests := browser(t)

	st := startStack(t)
	var logs syncBuffer
	logger := jsonLogger(&logs)
	a := stackApp(t, st, stackConfig(t, st, ""), logger)

	allowed, stranger := pageServer(t), pageServer(t)
	gw := apigateway.New(gatewayKey, logger)
	origins, err := apigateway.ParseOrigins(allowed)
	gw.Origins = origins
	require.NoError(t, err)
	for _, fn := range a.Functions() {
		gw.Area(fn.Area, a.Server(fn.Area))
	}
	root := moduleRoot(t)
	viewer, err := swaggerui.Ensure(context.Background(), filepath.Join(root, ".cache"))
	require.NoError(t, err)
	api := httptest.NewServer(swaggerui.Handler(viewer, filepath.Join(root, "openapi.yaml"), gw))
	t.Cleanup(api.Close)

	call := func(origin, script string, out any) {
		t.Helper()
		do(t, ctx, chromedp.Navigate(origin))
		prelude := fmt.Sprintf("const api = %q, admin = %q, viewer = %q;\n", api.URL, token(t, credit.RoleAdmin), token(t, credit.RoleViewer))
		evaluate(t, ctx, prelude+script, out)
	}

	t.Run("a page on an allowed origin uses the API and reads its errors", func(t *testing.T) {
		var got struct {
			Read      int                 `json:"read"`
			ReadBody  map[string]any      `json:"readBody"`
			Write     int                 `json:"write"`
			WriteBody map[string]any      `json:"writeBody"`
			Created   int                 `json:"created"`
			Location  string              `json:"location"`
			RequestID string              `json:"requestId"`
			Refused   int                 `json:"refused"`
			Code      string              `json:"code"`
			Invalid   int                 `json:"invalid"`
			Fields    []string            `json:"fields"`
			NoToken   int                 `json:"noToken"`
			Headers   map[string][]string `json:"headers"`
		}
		call(allowed, `
const auth = (tok) => ({Authorization: "Bearer " + tok});
const json = (tok) => ({...auth(tok), "Content-Type": "application/json"});
const out = {};

let r = await fetch(api + "/parameters", {headers: auth(admin)});
out.read = r.status; out.readBody = await r.json();

r = await fetch(api + "/parameters", {method: "PUT", headers: json(admin),
  body: JSON.stringify({creditAnalysisEnabled: true, repeatConsultationIntervalDays: 30})});
out.write = r.status; out.writeBody = await r.json();

r = await fetch(api + "/integrations", {method: "POST", headers: json(admin), body: JSON.stringify({
  intermediary: "connect", branchId: "7", environment: "homologation", login: "provedor",
  consultationPassword: "Abcd@123", pefinPassword: "135790", defaultPlan: "report_score",
  sendSmsOnInclusion: true, responsibleCpf: "529.982.247-25",
  automation: {enabled: true, restrictionCode: "01", removalCode: "01", daysAfterDue: 30}})});
out.created = r.status; out.location = r.headers.get("Location"); out.requestId = r.headers.get("Apigw-Requestid");

r = await fetch(api + "/parameters", {method: "PUT", headers: json(viewer),
  body: JSON.stringify({creditAnalysisEnabled: false, repeatConsultationIntervalDays: 0})});
out.refused = r.status; out.code = (await r.json()).error.code;

r = await fetch(api + "/parameters", {method: "PUT", headers: json(admin),
  body: JSON.stringify({creditAnalysisEnabled: true, repeatConsultationIntervalDays: 999})});
out.invalid = r.status; out.fields = (await r.json()).error.details.fields;

r = await fetch(api + "/parameters");
out.noToken = r.status;
return out;`, &got)

		assert.Equal(t, 200, got.Read)
		assert.Contains(t, got.ReadBody, "creditAnalysisEnabled")
		assert.Equal(t, 200, got.Write)
		assert.Equal(t, map[string]any{"creditAnalysisEnabled": true, "repeatConsultationIntervalDays": float64(30)}, got.WriteBody)
		assert.Equal(t, 201, got.Created)
		assert.Regexp(t, `^/integrations/[^/]+$`, got.Location, "the page reads Location")
		assert.NotEmpty(t, got.RequestID, "the page reads the request id")
		assert.Equal(t, 403, got.Refused)
		assert.Equal(t, httpapi.CodeForbidden, got.Code)
		assert.Equal(t, 400, got.Invalid)
		assert.Equal(t, []string{"repeatConsultationIntervalDays"}, got.Fields)
		assert.Equal(t, 401, got.NoToken)

		// The browser preflighted the JSON writes, and the gateway answered.
		assert.Contains(t, logs.String(), `"method":"OPTIONS","path":"/parameters","status":204`)
	})

	t.Run("a page on another origin is blocked by the browser", func(t *testing.T) {
		var got struct {
			Error       string `json:"error"`
			NoPreflight string `json:"noPreflight"`
		}
		call(stranger, `
const out = {};
try { await fetch(api + "/parameters", {headers: {Authorization: "Bearer " + admin}}); out.error = "none"; }
catch (e) { out.error = e.name; }
try { await fetch(api + "/health"); out.noPreflight = "none"; }
catch (e) { out.noPreflight = e.name; }
return out;`, &got)
		assert.Equal(t, "TypeError", got.Error, "a preflighted call is refused")
		assert.Equal(t, "TypeError", got.NoPreflight, "a simple call's answer is kept from the page")
	})

	t.Run("the API reference renders every operation", func(t *testing.T) {
		do(t, ctx,
			chromedp.Navigate(api.URL+"/docs"),
			chromedp.WaitVisible(chromedp.CSS("#operations-parameters-putParameters")),
		)
		var ops []string
		evaluate(t, ctx, `return [...document.querySelectorAll(".opblock")].map(e => e.id);`, &ops)
		assert.Len(t, ops, len(apispec.Load(t).Operations()), "one block per documented operation")
		assert.Contains(t, ops, "operations-health-getHealth")
		assert.Contains(t, ops, "operations-negativations-createNegativation")

		for _, u := range requests() {
			parsed, err := url.Parse(u)
			require.NoError(t, err)
			if parsed.Scheme == "data" || parsed.Scheme == "blob" || parsed.Scheme == "about" {
				continue
			}
			assert.Equal(t, "127.0.0.1", parsed.Hostname(), "the browser stays on this machine: %s", u)
		}
		assert.True(t, strings.Contains(strings.Join(requests(), " "), "/openapi.yaml"), "the page loaded the document")
	})
}
