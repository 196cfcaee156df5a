package e2e_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"creditanalysis/infra/apigateway"
	"creditanalysis/infra/apispec"
	"creditanalysis/infra/localauth"
	"creditanalysis/infra/stack"
	"creditanalysis/shared/app/allareas"
	"creditanalysis/shared/credit"
	"creditanalysis/shared/httpapi"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// localGateway serves every area of an App wired to st behind the local API
// Gateway, whose authorizer accepts the tokens token makes.
func localGateway(t *testing.T, st *stack.Stack, log *syncBuffer) string {
	return localGatewayWith(t, st, log, nil)
}

// localGatewayWith is localGateway with a chance to change the App's
// configuration and clients first (shorter bureau timeouts, a faulty
// DynamoDB transport).
func localGatewayWith(t *testing.T, st *stack.Stack, log *syncBuffer, adjust func(*allareas.Config, *allareas.Clients)) string {
	return localGatewayRecording(t, st, log, adjust, nil)
}

// localGatewayRecording is localGatewayWith whose areas record, in recorder,
// the IAM actions of their AWS calls.
func localGatewayRecording(t *testing.T, st *stack.Stack, log *syncBuffer, adjust func(*allareas.Config, *allareas.Clients), recorder *iamRecorder) string {
	t.Helper()
	cfg := stackConfig(t, st, "")
	clients := st.Clients()
	if adjust != nil {
		adjust(&cfg, &clients)
	}
	if log == nil {
		log = &syncBuffer{}
	}
	logger := jsonLogger(log)
	gw := apigateway.New(gatewayKey, logger)
	p := allareas.New(cfg, clients, logger)
	for i, fn := range p.Functions() {
		// With a recorder, each area is wired on clients of its own, as
		// each is its own function in AWS, so its AWS calls can be told apart.
		own := p
		if recorder != nil {
			own = allareas.New(cfg, recordingClients(st, recorder, fn.Name), logger)
			fn = own.Functions()[i]
		}
		gw.Area(fn.Area, own.Server(fn.Area))
	}
	srv := httptest.NewServer(gw)
	t.Cleanup(srv.Close)
	return srv.URL
}

// concrete fills an OpenAPI path's parameters with harmless values.
func concrete(path string) string {
	r := strings.NewReplacer("{kind}", "customers", "{id}", "access-x1", "{invoiceId}", "fat-x1", "{branchId}", "filial-x1")
	return r.Replace(path)
}

// TestEveryRouteEnforcesTheRoleMatrix walks every operation of openapi.yaml
// through the local API Gateway: without a token, with a forged one, with an
// expired one (401 every time), and with each role (403 `forbidden` exactly
// where the matrix says no).
func TestEveryRouteEnforcesTheRoleMatrix(t *testing.T) {
	st := startStack(t)
	base := localGateway(t, st, nil)

	tokens := map[credit.Role]string{}
	for _, r := range credit.Roles {
		tokens[r] = token(t, r)
	}
	forged, err := localauth.DevToken([]byte("some-other-key-that-is-not-ours!!"), credit.RoleAdmin, time.Hour)
	require.NoError(t, err)
	expired, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": "local-admin", "cognito:groups": []string{"admin"}, "iss": localauth.Issuer, "aud": localauth.Audience,
		"iat": time.Now().Add(-2 * time.Hour).Unix(), "exp": time.Now().Add(-time.Hour).Unix(),
	}).SignedString(gatewayKey)
	require.NoError(t, err)

	ops := apispec.Load(t).Operations()
	require.NotEmpty(t, ops)
	checked := 0
	for _, op := range ops {
		path := concrete(op.Path)
		body := ""
		if op.Method == http.MethodPost || op.Method == http.MethodPut || op.Method == http.MethodPatch {
			body = "{}"
		}
		if op.Public {
			resp, _ := httpDo(t, op.Method, base+path, "", body)
			assert.Less(t, resp.StatusCode, 400, op.String())
			continue
		}
		for name, tok := range map[string]string{"no token": "", "forged": forged, "expired": expired} {
			resp, _ := httpDo(t, op.Method, base+path, tok, body)
			assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "%s with %s", op, name)
		}
		for _, role := range credit.Roles {
			resp, raw := httpDo(t, op.Method, base+path, tokens[role], body)
			var e httpapi.ErrorBody
			_ = json.Unmarshal(raw, &e)
			allowed := httpapi.Allowed(op.String(), credit.Actor{Roles: []credit.Role{role}})
			if allowed {
				assert.NotEqual(t, http.StatusUnauthorized, resp.StatusCode, "%s as %s: %s", op, role, raw)
				assert.NotEqual(t, httpapi.CodeForbidden, e.Error.Code, "%s as %s: %s", op, role, raw)
				assert.Less(t, resp.StatusCode, 500, "%s as %s: %s", op, role, raw)
			} else {
				assert.Equal(t, http.StatusForbidden, resp.StatusCode, "%s as %s: %s", op, role, raw)
				assert.Equal(t, httpapi.CodeForbidden, e.Error.Code, "%s as %s", op, role)
			}
			checked++
		}
	}
	t.Logf("%d operations, %d role checks", len(ops), checked)
}

// TestReportContentsFollowTheRoleMatrix: of the roles that may read a
// consultation, those the matrix lets read reports (ReportReaders) get its
// report, its overview's name and score, by id and in the lists; the others
// get the record without them.
func TestReportContentsFollowTheRoleMatrix(t *testing.T) {
	b := startBranchSeven(t, credit.Automation{}, false)
	resp, raw := httpDo(t, "POST", b.base+"/consultations", token(t, credit.RoleAnalyst),
		`{"document":"529.982.247-25","branchId":"7","uf":"SP"}`)
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%s", raw)
	var created struct{ ID string }
	require.NoError(t, json.Unmarshal(raw, &created))

	for _, role := range credit.Roles {
		actor := credit.Actor{Roles: []credit.Role{role}}
		if !httpapi.Allowed("GET /consultations/{id}", actor) {
			continue
		}
		reads := httpapi.ReadsReports(actor)
		resp, raw := httpDo(t, "GET", b.base+"/consultations/"+created.ID, token(t, role), "")
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s: %s", role, raw)
		var one map[string]any
		require.NoError(t, json.Unmarshal(raw, &one))
		_, hasReport := one["report"]
		assert.Equal(t, reads, hasReport, "%s: the report by id", role)
		overview, _ := one["overview"].(map[string]any)
		_, hasName := overview["name"]
		assert.Equal(t, reads, hasName, "%s: the name by id", role)

		resp, raw = httpDo(t, "GET", b.base+"/consultations?document=52998224725", token(t, role), "")
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s: %s", role, raw)
		var list struct{ Items []map[string]any }
		require.NoError(t, json.Unmarshal(raw, &list))
		require.Len(t, list.Items, 1)
		overview, _ = list.Items[0]["overview"].(map[string]any)
		_, hasName = overview["name"]
		assert.Equal(t, reads, hasName, "%s: the name in the list", role)
	}
}

// jsonLogger writes the service's JSON log lines into buf.
func jsonLogger(buf *syncBuffer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
