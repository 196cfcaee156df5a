package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"creditanalysis/shared/credit"
	"creditanalysis/shared/httpapi"
	"creditanalysis/shared/memory"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// countingArea serves an idempotent route and a plain one with a handler
// that counts its calls and answers what it is told.
type countingArea struct {
	calls atomic.Int64
	// answer is the error the handler returns; nil answers 201.
	answer error
	// hold, when set, makes the handler wait for it to close, after
	// signalling entered.
	hold, entered chan struct{}
	panics        bool
}

func (a *countingArea) Routes() []httpapi.Route {
	return []httpapi.Route{
		{Method: "POST", Path: "/consultations", Handler: a.handle},
		{Method: "POST", Path: "/negativations/{id}/removal", Handler: a.handle},
		{Method: "PUT", Path: "/parameters", Handler: a.handle},
	}
}

func (a *countingArea) handle(w http.ResponseWriter, r *http.Request) error {
	n := a.calls.Add(1)
	var body map[string]any
	if err := httpapi.Decode(r, &body); err != nil {
		return err
	}
	if a.hold != nil {
		a.entered <- struct{}{}
		<-a.hold
	}
	if a.panics {
		panic("handler bug")
	}
	if a.answer != nil {
		return a.answer
	}
	httpapi.AuditTarget(r, "consultationId", fmt.Sprintf("c-%d", n))
	w.Header().Set("Location", fmt.Sprintf("/consultations/c-%d", n))
	httpapi.WriteJSON(w, http.StatusCreated, map[string]any{"call": n, "body": body})
	return nil
}

func idempotencyServer(a httpapi.Area, store credit.IdempotencyStore) *httpapi.Server {
	return httpapi.NewServer(httpapi.Config{Logger: discardLogger(), Idempotency: store}, a)
}

// keyed is a POST of body by user-1 (an admin) carrying key; an empty key
// sends no header.
func keyed(method, path, key, body string) events.APIGatewayV2HTTPRequest {
	e := request(method, path, "", admin, "application/json", body)
	if key != "" {
		e.Headers["idempotency-key"] = key
	}
	return e
}

func TestIdempotencyKeyReplaysTheFirstAnswer(t *testing.T) {
	area := &countingArea{}
	h := idempotencyServer(area, memory.NewIdempotency())
	const body = `{"document":"529.982.247-25"}`

	first := invoke(t, h, keyed("POST", "/consultations", "key-1", body))
	require.Equal(t, 201, first.StatusCode, first.Body)
	assert.Empty(t, first.Headers[httpapi.IdempotentReplayedHeader], "the first answer is no replay")

	for range 2 {
		again := invoke(t, h, keyed("POST", "/consultations", "key-1", body))
		assert.Equal(t, first.StatusCode, again.StatusCode)
		assert.Equal(t, first.Body, again.Body)
		assert.Equal(t, "/consultations/c-1", again.Headers["Location"])
		assert.Equal(t, first.Headers["Content-Type"], again.Headers["Content-Type"])
		assert.Equal(t, "true", again.Headers[httpapi.IdempotentReplayedHeader])
	}
	assert.EqualValues(t, 1, area.calls.Load(), "the work is done once")

	// A quoted key (the draft's form) is the same key.
	again := invoke(t, h, keyed("POST", "/consultations", `"key-1"`, body))
	assert.Equal(t, first.Body, again.Body)
	assert.EqualValues(t, 1, area.calls.Load())
}

// A replay is on the audit trail as a call of its own, naming the record
// the first call created: "who asked for this consultation?" finds both.
func TestIdempotentReplayNamesTheFirstCallsRecord(t *testing.T) {
	area := &countingArea{}
	trail := memory.NewAudit()
	h := httpapi.NewServer(httpapi.Config{Logger: discardLogger(), Idempotency: memory.NewIdempotency(), Audit: trail}, area)
	for range 2 {
		resp := invoke(t, h, keyed("POST", "/consultations", "key-1", `{}`))
		require.Equal(t, 201, resp.StatusCode, resp.Body)
	}
	require.EqualValues(t, 1, area.calls.Load())
	events, _, err := trail.ListAudit(context.Background(), credit.AuditFilter{TargetID: "c-1"}, credit.Page{})
	require.NoError(t, err)
	require.Len(t, events, 2, "the call and its replay")
	for _, e := range events {
		assert.Equal(t, map[string]string{"consultationId": "c-1"}, e.Target)
		assert.Equal(t, 201, e.Outcome.Status)
	}
}

func TestIdempotencyKeyScope(t *testing.T) {
	const body = `{"document":"529.982.247-25"}`
	tests := []struct {
		name      string
		second    events.APIGatewayV2HTTPRequest
		status    int
		code      string
		wantCalls int64
	}{
		{"another body is refused", keyed("POST", "/consultations", "key-1", `{"document":"111.444.777-35"}`), 422, credit.CodeIdempotencyKeyReused, 1},
		{"another route is refused", keyed("POST", "/negativations/n-1/removal", "key-1", body), 422, credit.CodeIdempotencyKeyReused, 1},
		{"another caller has its own keys", func() events.APIGatewayV2HTTPRequest {
			e := keyed("POST", "/consultations", "key-1", body)
			e.RequestContext.Authorizer.JWT.Claims["sub"] = "user-2"
			return e
		}(), 201, "", 2},
		{"another key runs again", keyed("POST", "/consultations", "key-2", body), 201, "", 2},
		{"no key runs again", keyed("POST", "/consultations", "", body), 201, "", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			area := &countingArea{}
			h := idempotencyServer(area, memory.NewIdempotency())
			first := invoke(t, h, keyed("POST", "/consultations", "key-1", body))
			require.Equal(t, 201, first.StatusCode, first.Body)
			resp := invoke(t, h, tt.second)
			require.Equal(t, tt.status, resp.StatusCode, resp.Body)
			if tt.code != "" {
				assert.Equal(t, tt.code, errorBody(t, resp.Body).Error.Code)
			} else {
				assert.Empty(t, resp.Headers[httpapi.IdempotentReplayedHeader])
			}
			assert.Equal(t, tt.wantCalls, area.calls.Load())
		})
	}
}

func TestIdempotencyKeyOnlyOnItsRoutes(t *testing.T) {
	area := &countingArea{}
	h := idempotencyServer(area, memory.NewIdempotency())
	const body = `{"creditAnalysisEnabled":true}`
	for range 2 {
		resp := invoke(t, h, keyed("PUT", "/parameters", "key-1", body))
		require.Equal(t, 201, resp.StatusCode, resp.Body)
		assert.Empty(t, resp.Headers[httpapi.IdempotentReplayedHeader])
	}
	resp := invoke(t, h, keyed("PUT", "/parameters", strings.Repeat("k", 300), body))
	assert.Equal(t, 201, resp.StatusCode, "the header is not even read elsewhere")
	assert.EqualValues(t, 3, area.calls.Load())

	assert.ElementsMatch(t, []string{
		"POST /consultations", "POST /negativations", "POST /negativations/{id}/removal",
		"POST /integrations", "POST /billing-rule/runs",
	}, keys(httpapi.Idempotent))
	for route := range httpapi.Idempotent {
		assert.Contains(t, httpapi.Access, route, "an idempotent route is a route")
	}
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestIdempotencyKeyInvalid(t *testing.T) {
	for name, key := range map[string]string{
		"empty quotes":  `""`,
		"too long":      strings.Repeat("k", 256),
		"not ASCII":     "chave-ç",
		"control":       "key\x01",
		"delete":        "key\x7f",
		"quoted, long":  `"` + strings.Repeat("k", 256) + `"`,
		"non-printable": "key\ttab",
	} {
		t.Run(name, func(t *testing.T) {
			area := &countingArea{}
			h := idempotencyServer(area, memory.NewIdempotency())
			resp := invoke(t, h, keyed("POST", "/consultations", key, `{}`))
			require.Equal(t, 400, resp.StatusCode, resp.Body)
			e := errorBody(t, resp.Body)
			assert.Equal(t, credit.CodeInvalidIdempotencyKey, e.Error.Code)
			assert.Contains(t, e.Error.Message, "Idempotency-Key")
			assert.Zero(t, area.calls.Load())
		})
	}
	t.Run("the longest key is valid", func(t *testing.T) {
		area := &countingArea{}
		h := idempotencyServer(area, memory.NewIdempotency())
		resp := invoke(t, h, keyed("POST", "/consultations", strings.Repeat("k", 255), `{}`))
		assert.Equal(t, 201, resp.StatusCode, resp.Body)
	})
}

// TestIdempotencyKeyFailures: what answers are final for their key. A
// failure of the server, or a conflict with what ran at that moment, lets
// a retry run again; any other answer is given again.
func TestIdempotencyKeyFailures(t *testing.T) {
	tests := []struct {
		name   string
		answer error
		status int
		kept   bool
	}{
		{"internal error", errors.New("dynamo: connection reset"), 500, false},
		{"bureau fault", credit.NewError(credit.KindBadGateway, credit.CodeBureauUnavailable, "Bureau indisponível."), 502, false},
		{"unavailable", credit.NewError(credit.KindUnavailable, "unavailable", "Indisponível."), 503, false},
		{"conflict with a running request", credit.NewError(credit.KindConflict, "consultation_in_progress", "Em andamento."), 409, false},
		{"validation", credit.NewError(credit.KindInvalid, credit.CodeValidation, "Dados inválidos."), 400, true},
		{"business rule", credit.NewError(credit.KindUnprocessable, credit.CodeBureauRejected, "Recusado."), 422, true},
		{"not found", credit.NotFound("Cadastro"), 404, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			area := &countingArea{answer: tt.answer}
			h := idempotencyServer(area, memory.NewIdempotency())
			first := invoke(t, h, keyed("POST", "/consultations", "key-1", `{}`))
			require.Equal(t, tt.status, first.StatusCode, first.Body)

			area.answer = nil
			second := invoke(t, h, keyed("POST", "/consultations", "key-1", `{}`))
			if tt.kept {
				assert.EqualValues(t, 1, area.calls.Load(), "a final answer is given again")
				assert.Equal(t, first.StatusCode, second.StatusCode)
				assert.Equal(t, first.Body, second.Body)
				assert.Equal(t, "true", second.Headers[httpapi.IdempotentReplayedHeader])
			} else {
				assert.EqualValues(t, 2, area.calls.Load(), "the key was released: the retry ran")
				assert.Equal(t, 201, second.StatusCode, second.Body)
			}
		})
	}

	t.Run("a panic releases the key", func(t *testing.T) {
		area := &countingArea{panics: true}
		h := idempotencyServer(area, memory.NewIdempotency())
		first := invoke(t, h, keyed("POST", "/consultations", "key-1", `{}`))
		require.Equal(t, 500, first.StatusCode, first.Body)
		area.panics = false
		second := invoke(t, h, keyed("POST", "/consultations", "key-1", `{}`))
		assert.Equal(t, 201, second.StatusCode, second.Body)
		assert.EqualValues(t, 2, area.calls.Load())
	})

	t.Run("without the store nothing runs", func(t *testing.T) {
		area := &countingArea{}
		h := idempotencyServer(area, failingIdempotency{})
		resp := invoke(t, h, keyed("POST", "/consultations", "key-1", `{}`))
		require.Equal(t, 500, resp.StatusCode, resp.Body)
		assert.Equal(t, credit.CodeInternal, errorBody(t, resp.Body).Error.Code)
		assert.Zero(t, area.calls.Load(), "a key that cannot be checked must not risk a second charge")
	})
}

type failingIdempotency struct{ credit.IdempotencyStore }

func (failingIdempotency) BeginIdempotency(context.Context, credit.IdempotencyClaim) (*credit.IdempotentResponse, error) {
	return nil, credit.Internal(errors.New("throttled"), "begin")
}

func TestIdempotencyKeyInProgress(t *testing.T) {
	area := &countingArea{hold: make(chan struct{}), entered: make(chan struct{}, 1)}
	h := idempotencyServer(area, memory.NewIdempotency())
	var wg sync.WaitGroup
	var first events.APIGatewayV2HTTPResponse
	wg.Add(1)
	go func() {
		defer wg.Done()
		first = invoke(t, h, keyed("POST", "/consultations", "key-1", `{}`))
	}()
	<-area.entered

	repeat := invoke(t, h, keyed("POST", "/consultations", "key-1", `{}`))
	require.Equal(t, 409, repeat.StatusCode, repeat.Body)
	assert.Equal(t, credit.CodeRequestInProgress, errorBody(t, repeat.Body).Error.Code)
	reused := invoke(t, h, keyed("POST", "/consultations", "key-1", `{"other":1}`))
	assert.Equal(t, 422, reused.StatusCode, reused.Body)

	close(area.hold)
	wg.Wait()
	require.Equal(t, 201, first.StatusCode, first.Body)
	after := invoke(t, h, keyed("POST", "/consultations", "key-1", `{}`))
	assert.Equal(t, first.Body, after.Body)
	assert.EqualValues(t, 1, area.calls.Load())
}

// recordingIdempotency sees everything the middleware hands the store.
type recordingIdempotency struct {
	*memory.Idempotency
	mu   sync.Mutex
	seen bytes.Buffer
}

func (r *recordingIdempotency) note(v ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintf(&r.seen, "%+v\n", v)
}

func (r *recordingIdempotency) BeginIdempotency(ctx context.Context, c credit.IdempotencyClaim) (*credit.IdempotentResponse, error) {
	r.note(c)
	return r.Idempotency.BeginIdempotency(ctx, c)
}

func (r *recordingIdempotency) CompleteIdempotency(ctx context.Context, c credit.IdempotencyClaim, a credit.IdempotentResponse) error {
	r.note(c, a.Status, a.Header, string(a.Body))
	return r.Idempotency.CompleteIdempotency(ctx, c, a)
}

// TestIdempotencyKeyKeepsNoSecret creates an integration, whose request
// carries both bureau passwords, under a key: the store gets the request's
// digest and the answer, neither holding a password, and the replay is the
// answer.
func TestIdempotencyKeyKeepsNoSecret(t *testing.T) {
	var logs bytes.Buffer
	store := &recordingIdempotency{Idempotency: memory.NewIdempotency()}
	svc, _, _ := integrationsServer(&logs)
	var integrations httpapi.Area
	for _, rt := range svc.Routes() {
		if rt.Pattern() == "POST /integrations" {
			integrations = singleRoute{rt}
		}
	}
	require.NotNil(t, integrations)
	h := idempotencyServer(integrations, store)

	e := integrationEvent(t, "create-integration")
	e.Headers["idempotency-key"] = "create-filial-7"
	require.Contains(t, e.Body, "consultationPassword")
	first := invoke(t, h, e)
	require.Equal(t, 201, first.StatusCode, first.Body)
	again := invoke(t, h, e)
	require.Equal(t, first.Body, again.Body)
	assert.Equal(t, "true", again.Headers[httpapi.IdempotentReplayedHeader])

	var req struct{ ConsultationPassword, PEFINPassword string }
	require.NoError(t, json.Unmarshal([]byte(e.Body), &req))
	require.NotEmpty(t, req.ConsultationPassword)
	seen := store.seen.String()
	require.Contains(t, seen, "/integrations/", "the store saw the answer")
	for _, secret := range []string{req.ConsultationPassword, req.PEFINPassword} {
		assert.NotContains(t, seen, secret, "a password reached the idempotency store")
		assert.NotContains(t, first.Body, secret)
	}
}

type singleRoute struct{ rt httpapi.Route }

func (s singleRoute) Routes() []httpapi.Route { return []httpapi.Route{s.rt} }
