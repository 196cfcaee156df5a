package apigateway

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// The HTTP API's CorsConfiguration, as template.yaml declares it: a browser
// page on an allowed origin may call every route with these methods and
// headers, and read these answer headers.
var (
	CORSAllowMethods  = []string{"GET", "POST", "PUT", "PATCH", "DELETE"}
	CORSAllowHeaders  = []string{"Authorization", "Content-Type", "Idempotency-Key"}
	CORSExposeHeaders = []string{"Location", "Apigw-Requestid", "Idempotent-Replayed"}
)

// CORSMaxAge is how long, in seconds, a browser may reuse a preflight.
const CORSMaxAge = 600

// Origins are the browser origins allowed to call the API. The zero value
// allows any http://localhost:<port> and http://127.0.0.1:<port>, the
// frontend dev servers on a developer's machine.
type Origins struct {
	any   bool
	exact map[string]bool
}

// ParseOrigins reads a comma-separated list of origins
// ("https://erp.example.com,http://localhost:5173"); "*" allows any origin.
// An empty list is the zero Origins.
func ParseOrigins(list string) (Origins, error) {
	var o Origins
	for _, s := range strings.Split(list, ",") {
		s = strings.TrimSpace(s)
		switch {
		case s == "":
			continue
		case s == "*":
			o.any = true
			continue
		}
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" {
			return Origins{}, fmt.Errorf("%q is not an origin (scheme://host[:port], nothing after)", s)
		}
		if o.exact == nil {
			o.exact = map[string]bool{}
		}
		o.exact[strings.ToLower(s)] = true
	}
	return o, nil
}

// Allows reports whether a page on origin may call the API.
func (o Origins) Allows(origin string) bool {
	if origin == "" {
		return false
	}
	if o.any {
		return true
	}
	if o.exact != nil {
		return o.exact[strings.ToLower(origin)]
	}
	return isLoopbackDevOrigin(origin)
}

func isLoopbackDevOrigin(origin string) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Scheme != "http" || u.Opaque != "" || u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" {
		return false
	}
	if h := u.Hostname(); h != "localhost" && h != "127.0.0.1" {
		return false
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return false
		}
	}
	return true
}

// isPreflight tells a browser's CORS preflight from any other OPTIONS.
func isPreflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && r.Header.Get("Origin") != "" &&
		r.Header.Get("Access-Control-Request-Method") != ""
}

// cors adds the CORS headers an answer to r carries and reports whether r
// is a preflight, which the gateway answers itself, before any route or
// authorizer, as an HTTP API with a CorsConfiguration does. An origin that
// is not allowed gets no CORS header at all, so the browser keeps the
// answer from the page.
func (g *Gateway) cors(w http.ResponseWriter, r *http.Request) (preflight bool) {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return false
	}
	preflight = isPreflight(r)
	h := w.Header()
	// The answer depends on Origin: caches must keep one per origin.
	h.Add("Vary", "Origin")
	if !g.Origins.Allows(origin) {
		return preflight
	}
	if preflight {
		if !allowed(CORSAllowMethods, r.Header.Values("Access-Control-Request-Method")) ||
			!allowed(CORSAllowHeaders, r.Header.Values("Access-Control-Request-Headers")) {
			return true
		}
		h.Set("Access-Control-Allow-Methods", strings.Join(CORSAllowMethods, ","))
		h.Set("Access-Control-Allow-Headers", strings.ToLower(strings.Join(CORSAllowHeaders, ",")))
		h.Set("Access-Control-Max-Age", strconv.Itoa(CORSMaxAge))
	} else {
		h.Set("Access-Control-Expose-Headers", strings.ToLower(strings.Join(CORSExposeHeaders, ",")))
	}
	if g.Origins.any {
		h.Set("Access-Control-Allow-Origin", "*")
	} else {
		h.Set("Access-Control-Allow-Origin", origin)
	}
	return preflight
}

// allowed reports whether every comma-separated name in requested is one of
// names (case-insensitively).
func allowed(names []string, requested []string) bool {
	for _, v := range requested {
		for _, name := range strings.Split(v, ",") {
			name = strings.TrimSpace(name)
			if name == "" {
				continue
			}
			ok := false
			for _, n := range names {
				if strings.EqualFold(n, name) {
					ok = true
					break
				}
			}
			if !ok {
				return false
			}
		}
	}
	return true
}
