package swaggerui_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"creditanalysis/infra/swaggerui"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHandler(t *testing.T) {
	viewer := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(viewer, "swagger-ui-bundle.js"), []byte("/* bundle */"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(viewer, "swagger-ui.css"), []byte("body{}"), 0o644))
	spec := filepath.Join(t.TempDir(), "openapi.yaml")
	require.NoError(t, os.WriteFile(spec, []byte("openapi: 3.0.3\n"), 0o644))
	empty := t.TempDir()

	tests := []struct {
		name        string
		dir         string
		method      string
		path        string
		wantStatus  int
		wantType    string
		wantBody    string
		wantForward bool
	}{
		{"the reference page", viewer, "GET", "/docs", 200, "text/html; charset=utf-8", `url: "/openapi.yaml"`, false},
		{"the viewer's script", viewer, "GET", "/docs/swagger-ui-bundle.js", 200, "text/javascript; charset=utf-8", "/* bundle */", false},
		{"the viewer's style", viewer, "GET", "/docs/swagger-ui.css", 200, "text/css; charset=utf-8", "body{}", false},
		{"the document", viewer, "GET", "/openapi.yaml", 200, "application/yaml; charset=utf-8", "openapi: 3.0.3", false},
		{"no listing of the viewer's folder", viewer, "GET", "/docs/", 404, "", "", false},
		{"a file the viewer lacks", viewer, "GET", "/docs/nothing.js", 404, "", "", false},
		{"nothing above the viewer's folder", viewer, "GET", "/docs/..%2f..%2fopenapi.yaml", 404, "", "", false},
		{"the page is read-only", viewer, "POST", "/docs", 405, "", "", false},
		{"no viewer fetched", empty, "GET", "/docs", 503, "", "make deps", false},
		{"an API route goes on", viewer, "GET", "/parameters", 299, "", "", true},
		{"an unclean path goes on as it came", viewer, "GET", "//docs", 299, "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			forwarded := false
			next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				forwarded = true
				w.WriteHeader(299)
			})
			w := httptest.NewRecorder()
			swaggerui.Handler(tt.dir, spec, next).ServeHTTP(w, httptest.NewRequest(tt.method, tt.path, nil))

			assert.Equal(t, tt.wantStatus, w.Code, w.Body.String())
			assert.Equal(t, tt.wantForward, forwarded)
			if tt.wantType != "" {
				assert.Equal(t, tt.wantType, w.Header().Get("Content-Type"))
			}
			assert.Contains(t, w.Body.String(), tt.wantBody)
		})
	}
}

// TestPageLoadsNothingFromElsewhere: the page names only its own server's
// files, so it renders on a machine without internet access.
func TestPageLoadsNothingFromElsewhere(t *testing.T) {
	viewer := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(viewer, "swagger-ui-bundle.js"), nil, 0o644))
	w := httptest.NewRecorder()
	swaggerui.Handler(viewer, "", http.NotFoundHandler()).ServeHTTP(w, httptest.NewRequest("GET", "/docs", nil))
	require.Equal(t, 200, w.Code)
	page := w.Body.String()
	assert.NotContains(t, page, "//", "no absolute or protocol-relative URL")
	assert.Contains(t, page, "validatorUrl: null", "the document is not sent to an online validator")
	for _, ref := range []string{`src="/docs/swagger-ui-bundle.js"`, `href="/docs/swagger-ui.css"`} {
		assert.True(t, strings.Contains(page, ref), ref)
	}
}
