package httpapi_test

import (
	"encoding/json"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"creditanalysis/shared/app"
	"creditanalysis/shared/app/allareas"
	"creditanalysis/shared/httpapi"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFixturesMatchTheirRoute holds every HTTP fixture in events/<function>/
// to a route its function serves, and to what API Gateway puts in a payload
// v2 event for it: pathParameters from the route's {wildcards} over rawPath
// (absent when the route has none), queryStringParameters from
// rawQueryString (absent when it is empty; repeated names joined with a
// comma). `sam local invoke -e` hands a fixture over as it is, so a fixture
// missing them is an event no gateway sends.
func TestFixturesMatchTheirRoute(t *testing.T) {
	areas := map[string]httpapi.Area{}
	for _, fn := range allareas.New(allareas.Config{App: app.Config{Table: "t"}}, allareas.Clients{}, slog.New(slog.DiscardHandler)).Functions() {
		areas[fn.Name] = fn.Area
	}
	paths, err := filepath.Glob(filepath.Join(eventsDir, "*", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, paths)

	checked := 0
	for _, path := range paths {
		function := filepath.Base(filepath.Dir(path))
		name := function + "/" + filepath.Base(path)
		raw, err := os.ReadFile(path)
		require.NoError(t, err)
		var e struct {
			RouteKey              string            `json:"routeKey"`
			RawPath               string            `json:"rawPath"`
			RawQueryString        string            `json:"rawQueryString"`
			PathParameters        map[string]string `json:"pathParameters"`
			QueryStringParameters map[string]string `json:"queryStringParameters"`
			RequestContext        struct {
				RouteKey string `json:"routeKey"`
				HTTP     *struct {
					Method string `json:"method"`
					Path   string `json:"path"`
				} `json:"http"`
			} `json:"requestContext"`
		}
		require.NoError(t, json.Unmarshal(raw, &e), name)
		if e.RequestContext.HTTP == nil {
			continue // not an HTTP event (the schedule's, a self-invocation)
		}
		checked++
		t.Run(name, func(t *testing.T) {
			area, ok := areas[function]
			require.True(t, ok, "events/%s/ is not a function's folder", function)
			var routes []string
			for _, rt := range area.Routes() {
				routes = append(routes, rt.Pattern())
			}
			require.Contains(t, routes, e.RouteKey, "the fixture's route is not one %s serves", function)
			assert.Equal(t, e.RouteKey, e.RequestContext.RouteKey)
			method, route, _ := strings.Cut(e.RouteKey, " ")
			assert.Equal(t, method, e.RequestContext.HTTP.Method)
			assert.Equal(t, e.RawPath, e.RequestContext.HTTP.Path)

			want, ok := pathParameters(route, e.RawPath)
			require.True(t, ok, "rawPath %q does not match route %q", e.RawPath, route)
			assert.Equal(t, want, e.PathParameters, "pathParameters")

			assert.Equal(t, queryStringParameters(t, e.RawQueryString), e.QueryStringParameters, "queryStringParameters")
		})
	}
	assert.Greater(t, checked, 0)
}

// pathParameters matches rawPath against a route's path, segment by
// segment, and returns the {wildcards}' decoded values; nil when the route
// has none. ok is false when the path does not match.
func pathParameters(route, rawPath string) (params map[string]string, ok bool) {
	rs := strings.Split(strings.Trim(route, "/"), "/")
	ps := strings.Split(strings.Trim(rawPath, "/"), "/")
	if len(rs) != len(ps) {
		return nil, false
	}
	for i, seg := range rs {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			v, err := url.PathUnescape(ps[i])
			if err != nil || v == "" {
				return nil, false
			}
			if params == nil {
				params = map[string]string{}
			}
			params[strings.Trim(seg, "{}")] = v
		} else if seg != ps[i] {
			return nil, false
		}
	}
	return params, true
}

// queryStringParameters is what API Gateway makes of a raw query string:
// decoded, repeated names joined with a comma, nil when empty.
func queryStringParameters(t *testing.T, raw string) map[string]string {
	t.Helper()
	if raw == "" {
		return nil
	}
	q, err := url.ParseQuery(raw)
	require.NoError(t, err, raw)
	out := make(map[string]string, len(q))
	for k, vs := range q {
		out[k] = strings.Join(vs, ",")
	}
	return out
}

func TestPathParameters(t *testing.T) {
	tests := []struct {
		route, path string
		want        map[string]string
		ok          bool
	}{
		{"/parameters", "/parameters", nil, true},
		{"/parties/{kind}/{id}", "/parties/customers/cli-1", map[string]string{"kind": "customers", "id": "cli-1"}, true},
		{"/integrations/{id}/plans", "/integrations/a%20b/plans", map[string]string{"id": "a b"}, true},
		{"/integrations/{id}/plans", "/integrations/x/codes", nil, false},
		{"/integrations/{id}", "/integrations/x/plans", nil, false},
		{"/integrations/{id}", "/integrations/", nil, false},
	}
	for _, tt := range tests {
		got, ok := pathParameters(tt.route, tt.path)
		assert.Equal(t, tt.ok, ok, "%s %s", tt.route, tt.path)
		if tt.ok {
			assert.Equal(t, tt.want, got, "%s %s", tt.route, tt.path)
		}
	}
}
