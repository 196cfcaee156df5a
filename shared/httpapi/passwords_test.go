package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"creditanalysis/shared/credit"
	"creditanalysis/shared/credit/credittest"
	"creditanalysis/shared/httpapi"
	"creditanalysis/shared/memory"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fixtureIntegrationID is the integration the events/passwords fixtures
// name.
const fixtureIntegrationID = "0192f5a0-0000-7000-8000-000000000001"

// passwordsBureau holds one account's passwords and changes them like the
// bureau; fail, when set, answers a change instead.
type passwordsBureau struct {
	mu                  sync.Mutex
	consultation, pefin string
	fail                error
}

func (b *passwordsBureau) change(held *string, given, next string, kind credit.CredentialKind) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.fail != nil {
		return b.fail
	}
	if *held != given {
		return credit.BureauBadCredentials(kind)
	}
	*held = next
	return nil
}

func (b *passwordsBureau) ChangeConsultationPassword(_ context.Context, a credit.BureauAccount, next string) error {
	return b.change(&b.consultation, a.Credentials.ConsultationPassword, next, credit.CredentialConsultation)
}

func (b *passwordsBureau) ChangePEFINPassword(_ context.Context, a credit.BureauAccount, next string) error {
	return b.change(&b.pefin, a.Credentials.PEFINPassword, next, credit.CredentialPEFIN)
}

func (b *passwordsBureau) CheckCredentials(_ context.Context, a credit.BureauAccount) (credit.CredentialCheck, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return credit.CredentialCheck{Consultation: a.Credentials.ConsultationPassword == b.consultation, PEFIN: a.Credentials.PEFINPassword == b.pefin}, nil
}

// passwordsServer is the passwords function's handler over the in-memory
// stores, with the fixtures' integration, whose passwords the bureau holds.
func passwordsServer(t *testing.T, logs *bytes.Buffer) (*httpapi.Server, *passwordsBureau, *memory.PasswordHistory) {
	t.Helper()
	ctx := context.Background()
	store, secrets, history := memory.New(), memory.NewSecrets(), memory.NewPasswordHistory()
	const consultation, pefin = "Abcd@123", "135790"
	i := credittest.NewTestIntegration("filial-7")
	i.ID = fixtureIntegrationID
	ref, err := secrets.Create(ctx, i.ID, credit.IntegrationSecrets{ConsultationPassword: consultation, PEFINPassword: pefin})
	require.NoError(t, err)
	i.SecretRef = ref
	require.NoError(t, store.CreateIntegration(ctx, i))
	bureau := &passwordsBureau{consultation: consultation, pefin: pefin}
	n := 0
	svc := &credit.PasswordService{
		Integrations: store, Store: history, Secrets: secrets, Bureau: bureau,
		Hasher: credit.PasswordHasher{Time: 1, MemoryKiB: 64, Threads: 1},
		Pepper: memory.Pepper("pepper-for-tests-0123456789abcdef0123456789"),
		NewID:  func() string { n++; return "change-" + strings.Repeat("x", n) },
	}
	log := slog.New(slog.NewJSONHandler(logs, nil))
	svc.Log = log
	return httpapi.NewServer(httpapi.Config{Logger: log}, &httpapi.PasswordsHandler{Service: svc}), bureau, history
}

func passwordEvent(t *testing.T, name string) events.APIGatewayV2HTTPRequest {
	return loadEvent(t, filepath.Join(eventsDir, "passwords", name+".json"))
}

// withBody is a fixture's request with another body: the accepted changes
// are built here, because no fixture file may hold a password.
func withBody(e events.APIGatewayV2HTTPRequest, newPassword, confirmation string) events.APIGatewayV2HTTPRequest {
	b, _ := json.Marshal(map[string]string{"newPassword": newPassword, "confirmation": confirmation})
	e.Body = string(b)
	headers := make(map[string]string, len(e.Headers))
	for k, v := range e.Headers {
		headers[k] = v
	}
	headers["content-length"] = strconv.Itoa(len(b))
	e.Headers = headers
	return e
}

func TestPasswordsFixtures(t *testing.T) {
	var logs bytes.Buffer
	h, bureau, _ := passwordsServer(t, &logs)
	tests := map[string]struct {
		status     int
		code       string
		violations []string
		body       string
	}{
		"change-consultation-password-policy":     {status: 400, code: credit.CodePasswordPolicy, violations: []string{"length", "lowercase", "uppercase", "digit", "special"}},
		"change-pefin-password-policy":            {status: 400, code: credit.CodePasswordPolicy, violations: []string{"length", "digits_only"}},
		"change-consultation-password-forbidden":  {status: 403, code: httpapi.CodeForbidden},
		"change-pefin-password-unauthenticated":   {status: 401, code: httpapi.CodeUnauthorized},
		"change-pefin-password-unknown-field":     {status: 400, code: httpapi.CodeUnknownField},
		"change-consultation-password-invalid-id": {status: 400, code: httpapi.CodeInvalidParameter},
		"list-password-changes":                   {status: 200, body: `{"items":[],"nextCursor":null}`},
		"list-password-changes-missing":           {status: 404, code: credit.CodeNotFound},
		"list-password-changes-bad-limit":         {status: 400, code: httpapi.CodeInvalidParameter},
		"list-password-changes-viewer-forbidden":  {status: 403, code: httpapi.CodeForbidden},
	}
	names := fixtures(t, "passwords")
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			want, ok := tests[name]
			require.True(t, ok, "events/passwords/%s.json has no expectation in this table", name)
			e := passwordEvent(t, name)
			resp := invoke(t, h, e)
			require.Equal(t, want.status, resp.StatusCode, resp.Body)
			if want.body != "" {
				assert.JSONEq(t, want.body, resp.Body)
			}
			if want.status >= 400 {
				body := errorBody(t, resp.Body)
				assert.Equal(t, want.code, body.Error.Code)
				assert.NotEmpty(t, body.Error.Message)
				assert.Equal(t, e.RequestContext.RequestID, body.RequestID)
				if want.violations != nil {
					assert.Equal(t, want.violations, toStrings(body.Error.Details["violations"]))
				}
			}
		})
	}
	for name := range tests {
		assert.Contains(t, names, name, "expectation without a fixture file")
	}
	c, p := bureau.consultation, bureau.pefin
	assert.Equal(t, "Abcd@123", c, "no fixture changed a password")
	assert.Equal(t, "135790", p)
}

func toStrings(v any) []string {
	list, _ := v.([]any)
	out := make([]string, len(list))
	for i, x := range list {
		out[i], _ = x.(string)
	}
	return out
}

// TestPasswordFixturesCarryNoPassword keeps rule 11 for the fixtures: a
// value in a change fixture breaks the rules of its kind, so it can never be
// anyone's password; and the events look like what API Gateway sends.
func TestPasswordFixturesCarryNoPassword(t *testing.T) {
	for _, name := range fixtures(t, "passwords") {
		t.Run(name, func(t *testing.T) {
			e := passwordEvent(t, name)
			assert.Equal(t, "2.0", e.Version)
			assert.Equal(t, e.RouteKey, e.RequestContext.RouteKey)
			assert.Equal(t, e.RawPath, e.RequestContext.HTTP.Path)
			assert.Equal(t, e.RequestContext.HTTP.Method, strings.Fields(e.RouteKey)[0])
			assert.NotEmpty(t, e.RequestContext.RequestID)
			for k := range e.Headers {
				assert.Equal(t, strings.ToLower(k), k)
			}
			if e.Body == "" {
				return
			}
			kind := credit.CredentialConsultation
			if strings.Contains(e.RouteKey, "pefin") {
				kind = credit.CredentialPEFIN
			}
			var body map[string]any
			require.NoError(t, json.Unmarshal([]byte(e.Body), &body))
			for field, v := range body {
				s, _ := v.(string)
				assert.NotEmpty(t, credit.PasswordViolations(kind, s), "%s.%s could be a password", name, field)
			}
		})
	}
}

func TestPasswordChangeThroughHandler(t *testing.T) {
	var logs bytes.Buffer
	h, bureau, history := passwordsServer(t, &logs)
	consultationEvent := passwordEvent(t, "change-consultation-password-policy")
	pefinEvent := passwordEvent(t, "change-pefin-password-policy")
	const newConsultation, newPEFIN = "Nov@2026", "802468"
	var answers []string
	do := func(e events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
		resp := invoke(t, h, e)
		answers = append(answers, resp.Body)
		return resp
	}

	resp := do(withBody(consultationEvent, newConsultation, newConsultation))
	require.Equal(t, 204, resp.StatusCode, resp.Body)
	assert.Empty(t, resp.Body)
	assert.Equal(t, newConsultation, bureau.consultation)

	resp = do(withBody(pefinEvent, newPEFIN, newPEFIN))
	require.Equal(t, 204, resp.StatusCode, resp.Body)
	assert.Equal(t, newPEFIN, bureau.pefin)

	for _, tt := range []struct {
		name   string
		event  events.APIGatewayV2HTTPRequest
		status int
		code   string
	}{
		{"the current password again", withBody(consultationEvent, newConsultation, newConsultation), 409, credit.CodePasswordReused},
		{"an earlier password", withBody(pefinEvent, "135790", "135790"), 409, credit.CodePasswordReused},
		{"confirmation differs", withBody(consultationEvent, "Dez@2026", "Dez@2025"), 400, credit.CodePasswordConfirmationMismatch},
		{"a PEFIN password with a run", withBody(pefinEvent, "456802", "456802"), 400, credit.CodePasswordPolicy},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp := do(tt.event)
			require.Equal(t, tt.status, resp.StatusCode, resp.Body)
			assert.Equal(t, tt.code, errorBody(t, resp.Body).Error.Code)
		})
	}

	t.Run("the bureau refuses: 422 with its message", func(t *testing.T) {
		bureau.fail = credit.BureauRejected("Senha recusada pelo parceiro.")
		defer func() { bureau.fail = nil }()
		resp := do(withBody(consultationEvent, "Dez@2026", "Dez@2026"))
		require.Equal(t, 422, resp.StatusCode, resp.Body)
		body := errorBody(t, resp.Body)
		assert.Equal(t, credit.CodeBureauRejected, body.Error.Code)
		assert.Contains(t, body.Error.Message, "Senha recusada pelo parceiro.")
	})

	t.Run("the bureau is down: 502", func(t *testing.T) {
		bureau.fail = credit.BureauUnavailable(errors.New("503"))
		defer func() { bureau.fail = nil }()
		resp := do(withBody(pefinEvent, "975319", "975319"))
		require.Equal(t, 502, resp.StatusCode, resp.Body)
		assert.Equal(t, credit.CodeBureauUnavailable, errorBody(t, resp.Body).Error.Code)
	})

	t.Run("the history lists who changed what and how it ended", func(t *testing.T) {
		resp := do(passwordEvent(t, "list-password-changes"))
		require.Equal(t, 200, resp.StatusCode, resp.Body)
		var list struct {
			Items []struct {
				ID         string  `json:"id"`
				Kind       string  `json:"kind"`
				Outcome    string  `json:"outcome"`
				ErrorCode  string  `json:"errorCode"`
				Recovered  bool    `json:"recovered"`
				RequestID  string  `json:"requestId"`
				StartedAt  string  `json:"startedAt"`
				FinishedAt *string `json:"finishedAt"`
				Actor      struct {
					Sub  string `json:"sub"`
					Name string `json:"name"`
				} `json:"actor"`
			} `json:"items"`
			NextCursor *string `json:"nextCursor"`
		}
		dec := json.NewDecoder(strings.NewReader(resp.Body))
		dec.DisallowUnknownFields()
		require.NoError(t, dec.Decode(&list))
		var got []string
		for _, it := range list.Items {
			got = append(got, it.Kind+":"+it.Outcome)
			assert.Equal(t, "Carla Admin", it.Actor.Name)
			assert.NotEmpty(t, it.StartedAt)
			assert.NotNil(t, it.FinishedAt)
		}
		assert.Equal(t, []string{"pefin:failed", "consultation:rejected", "pefin:changed", "consultation:changed"}, got)
		assert.Equal(t, credit.CodeBureauUnavailable, list.Items[0].ErrorCode)
		assert.Equal(t, consultationEvent.RequestContext.RequestID, list.Items[3].RequestID)
	})

	t.Run("no password and no hash in any answer or log line", func(t *testing.T) {
		hashes, err := history.PasswordHashes(context.Background(), fixtureIntegrationID, credit.CredentialConsultation)
		require.NoError(t, err)
		require.NotEmpty(t, hashes)
		for _, secret := range []string{"Abcd@123", "135790", newConsultation, newPEFIN, "Dez@2026", "975319", "$argon2id$"} {
			for i, a := range answers {
				assert.NotContains(t, a, secret, "answer %d", i)
			}
			assert.NotContains(t, logs.String(), secret, "logs")
		}
	})
}
