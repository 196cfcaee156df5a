// Package swaggerui serves the API reference behind `make run`: GET /docs,
// Swagger UI (the npm package swagger-ui-dist, fetched into the cache like
// DynamoDB Local and never committed) rendering openapi.yaml, and
// GET /openapi.yaml, the document itself. Every file the page loads comes
// from the same server, so it works without internet access.
package swaggerui

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"creditanalysis/infra/npmpack"
)

// NPMPackage is the npm package that carries Swagger UI's files.
const NPMPackage = "swagger-ui-dist@5.36.0"

// bundle is the file whose presence says the viewer is unpacked.
const bundle = "swagger-ui-bundle.js"

// Ensure makes sure Swagger UI's files are unpacked under cacheDir and
// returns their directory. It downloads the npm package only the first time.
func Ensure(ctx context.Context, cacheDir string) (string, error) {
	return npmpack.Ensure(ctx, cacheDir, npmpack.Package{
		Spec: NPMPackage, Dir: "swagger-ui", Marker: bundle,
		// The package's top-level files: the bundles, their CSS, the icons.
		Pick: func(entry string) (string, bool) {
			name, ok := strings.CutPrefix(entry, "package/")
			return name, ok && name != "" && !strings.ContainsAny(name, `/\`) && !strings.HasPrefix(name, ".")
		},
	})
}

// page is /docs: Swagger UI on /openapi.yaml. validatorUrl null keeps it
// from sending the document to swagger.io's online validator;
// showExtensions shows each operation's x-error-codes.
const page = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Análise de crédito — API reference</title>
<link rel="icon" href="/docs/favicon-32x32.png">
<link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({
  url: "/openapi.yaml",
  dom_id: "#swagger-ui",
  deepLinking: true,
  showExtensions: true,
  persistAuthorization: true,
  validatorUrl: null
});
</script>
</body>
</html>
`

// Handler serves GET /docs, the viewer's files under /docs/, and
// GET /openapi.yaml (the file at spec), none of them behind a token; every
// other request goes to next. dir is what Ensure returned; when it holds no
// viewer, /docs says how to fetch it.
func Handler(dir, spec string, next http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /docs", func(w http.ResponseWriter, r *http.Request) {
		if _, err := os.Stat(filepath.Join(dir, bundle)); err != nil {
			http.Error(w, "The API reference viewer is not fetched yet: run `make deps`.", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = io.WriteString(w, page)
	})
	files := http.StripPrefix("/docs/", http.FileServer(http.Dir(dir)))
	mux.HandleFunc("GET /docs/{file}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("file") == "" { // no directory listing
			http.NotFound(w, r)
			return
		}
		files.ServeHTTP(w, r)
	})
	mux.HandleFunc("GET /openapi.yaml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/yaml; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		http.ServeFile(w, r, spec)
	})
	// Only these paths go through mux: everything else reaches next as it
	// came, unclean paths included (ServeMux would redirect them).
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.Path; p == "/docs" || strings.HasPrefix(p, "/docs/") || p == "/openapi.yaml" {
			mux.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}
