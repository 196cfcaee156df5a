// Package swaggerui serves the API reference behind `make run`: GET /docs,
// Swagger UI (the npm package swagger-ui-dist, fetched into the cache like
// DynamoDB Local and never committed) rendering openapi.yaml, and
// GET /openapi.yaml, the document itself. Every file the page loads comes
// from the same server, so it works without internet access.
package swaggerui

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// NPMPackage is the npm package that carries Swagger UI's files.
const NPMPackage = "swagger-ui-dist@5.36.0"

// bundle is the file whose presence says the viewer is unpacked.
const bundle = "swagger-ui-bundle.js"

// Ensure makes sure Swagger UI's files are unpacked under cacheDir and
// returns their directory. It downloads the npm package only the first time.
func Ensure(ctx context.Context, cacheDir string) (string, error) {
	dir := filepath.Join(cacheDir, "swagger-ui")
	if _, err := os.Stat(filepath.Join(dir, bundle)); err == nil {
		return dir, nil
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(cacheDir, "npm-pack-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	cmd := exec.CommandContext(ctx, "npm", "pack", NPMPackage, "--silent", "--pack-destination", tmp)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("npm pack %s: %w", NPMPackage, err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	tgz := filepath.Join(tmp, strings.TrimSpace(lines[len(lines)-1]))
	staging := filepath.Join(tmp, "unpacked")
	if err := extract(tgz, staging); err != nil {
		return "", err
	}
	_ = os.RemoveAll(dir)
	if err := os.Rename(staging, dir); err != nil {
		return "", err
	}
	return dir, nil
}

// extract unpacks the package's top-level files (package/<file>: the
// bundles, their CSS, the favicons) into dest.
func extract(tgz, dest string) error {
	f, err := os.Open(tgz)
	if err != nil {
		return err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return err
	}
	tr := tar.NewReader(gz)
	found := false
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		name, ok := strings.CutPrefix(h.Name, "package/")
		if !ok || h.Typeflag != tar.TypeReg || name == "" || strings.ContainsAny(name, `/\`) || strings.HasPrefix(name, ".") {
			continue
		}
		out, err := os.OpenFile(filepath.Join(dest, name), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, tr); err != nil {
			out.Close()
			return err
		}
		if err := out.Close(); err != nil {
			return err
		}
		found = found || name == bundle
	}
	if !found {
		return fmt.Errorf("%s not found in %s", bundle, tgz)
	}
	return nil
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
