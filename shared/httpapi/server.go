package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"creditanalysis/shared/awslambda/lambdalog"
	"creditanalysis/shared/credit"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/awslabs/aws-lambda-go-api-proxy/core"
	"github.com/google/uuid"
)

// HandlerFunc serves one route; a returned error is answered in the one
// error shape by the server, so handlers never write errors themselves.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// Route is one (method, path) an area serves. Path uses ServeMux wildcards
// ({id}), the same syntax as API Gateway and OpenAPI.
type Route struct {
	Method  string
	Path    string
	Handler HandlerFunc
}

// Pattern is the route's ServeMux pattern and its key in Access.
func (r Route) Pattern() string { return r.Method + " " + r.Path }

// Area is one function's set of routes.
type Area interface {
	Routes() []Route
}

// Config configures the server's cross-cutting behaviour.
type Config struct {
	Logger *slog.Logger
	// RolesClaim names the JWT claim holding the caller's roles
	// (DefaultRolesClaim when empty).
	RolesClaim string
	// BranchesClaim names the JWT claim listing the branches a caller is
	// kept to (DefaultBranchesClaim when empty).
	BranchesClaim string
	// RoleGroups says which group grants which role (DefaultRoleGroups
	// when nil).
	RoleGroups RoleGroups
	// Audit receives an event for every state-changing call and every read
	// listed in auditedReads; nil keeps no trail (unit tests of one area).
	Audit credit.AuditLog
	// Now and NewID stamp audit events (time.Now and UUIDv7 when nil).
	Now   func() time.Time
	NewID func() string
	// SAMLocal, set only under SAM CLI (SAMLocalAuthFromEnv), checks the
	// bearer token when no authorizer claims came with the request.
	SAMLocal *SAMLocalAuth
	// Idempotency keeps the Idempotency-Key of the routes in Idempotent;
	// nil ignores the header (unit tests of one area).
	Idempotency credit.IdempotencyStore
}

// Server serves a set of areas with routing, authorization, logging and the
// one error shape.
type Server struct {
	cfg    Config
	mux    *http.ServeMux
	routes []Route
}

// NewServer registers every route of areas. It panics when a route is not in
// the Access matrix or is registered twice: both are programming errors
// caught by the first test.
func NewServer(cfg Config, areas ...Area) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	// The request's identity reaches every line through the context.
	cfg.Logger = slog.New(credit.NewLogHandler(cfg.Logger.Handler()))
	s := &Server{cfg: cfg, mux: http.NewServeMux()}
	for _, a := range areas {
		for _, rt := range a.Routes() {
			if _, ok := Access[rt.Pattern()]; !ok {
				panic(fmt.Sprintf("httpapi: route %q has no entry in the access matrix", rt.Pattern()))
			}
			s.mux.Handle(rt.Pattern(), s.serve(rt))
			s.routes = append(s.routes, rt)
		}
	}
	return s
}

// Routes lists the registered routes.
func (s *Server) Routes() []Route { return s.routes }

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	ctx := r.Context()
	reqID := requestIDOf(r)
	ctx = credit.WithLogAttrs(WithRequestID(ctx, reqID), requestLogAttrs(ctx, reqID)...)
	log := s.cfg.Logger
	ctx = WithLogger(ctx, log)
	r = r.WithContext(ctx)
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}

	defer func() {
		if p := recover(); p != nil {
			log.ErrorContext(ctx, "panic", slog.Any("panic", p), slog.String("stack", string(debug.Stack())))
			WriteError(sw, r, fmt.Errorf("panic: %v", p))
		}
		log.LogAttrs(ctx, slog.LevelInfo, "request",
			slog.String("method", r.Method), slog.String("route", r.Pattern),
			slog.Int("status", sw.status), slog.Int64("durationMs", time.Since(start).Milliseconds()))
	}()

	h, pattern := s.mux.Handler(r)
	if pattern == "" {
		// No route: let the mux tell 404 from 405, then answer in our shape.
		probe := &muxAnswer{header: http.Header{}}
		h.ServeHTTP(probe, r)
		if probe.status == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", probe.header.Get("Allow"))
			WriteError(sw, r, credit.NewError(KindMethodNotAllowed, CodeMethodNotAllowed, "Método não permitido para este recurso."))
			return
		}
		WriteError(sw, r, credit.NewError(credit.KindNotFound, CodeRouteNotFound, "Recurso não encontrado."))
		return
	}
	s.mux.ServeHTTP(sw, r)
}

// muxAnswer keeps the status and headers of the mux's own answer to a
// request no route matches, and drops its body.
type muxAnswer struct {
	header http.Header
	status int
}

func (a *muxAnswer) Header() http.Header { return a.header }

func (a *muxAnswer) WriteHeader(status int) {
	if a.status == 0 {
		a.status = status
	}
}

func (a *muxAnswer) Write(b []byte) (int, error) {
	a.WriteHeader(http.StatusOK)
	return len(b), nil
}

// serve wraps one route with authentication, authorization, the body
// limit and, on the routes that honour one, the idempotency key.
func (s *Server) serve(rt Route) http.Handler {
	pattern := rt.Pattern()
	public := IsPublic(pattern)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw, ok := w.(*statusWriter)
		if !ok {
			sw = &statusWriter{ResponseWriter: w, status: http.StatusOK}
			w = sw
		}
		note := &credit.AuditNote{}
		r = r.WithContext(credit.WithAuditNote(r.Context(), note))
		defer func() { s.audit(r, rt, sw.status, sw.code, note) }()
		ctx := r.Context()
		if !public {
			actor, ok, err := s.actor(r)
			if err != nil {
				Logger(ctx).InfoContext(ctx, "sam local: bearer token refused", slog.String("error", err.Error()))
			}
			if !ok {
				WriteError(w, r, credit.NewError(KindUnauthorized, CodeUnauthorized, "Autenticação necessária."))
				return
			}
			if !Allowed(pattern, actor) {
				WriteError(w, r, credit.NewError(credit.KindForbidden, CodeForbidden, "Seu perfil não tem permissão para esta operação."))
				return
			}
			ctx = credit.WithActor(ctx, actor)
			ctx = credit.WithLogAttrs(ctx, slog.String("actor", actor.Subject))
			r = r.WithContext(ctx)
		}
		if r.ContentLength > MaxBodyBytes {
			WriteError(w, r, errBodyTooLarge)
			return
		}
		s.offerAudit(r, rt, note)
		s.handle(rt, w, r)
	})
}

// actor is the caller: from the API Gateway authorizer's claims or, under
// SAM CLI only, from the bearer token checked here. err says why a token
// was refused under SAM CLI.
func (s *Server) actor(r *http.Request) (credit.Actor, bool, error) {
	if a, ok := ActorFromGateway(r.Context(), s.cfg.RolesClaim, s.cfg.RoleGroups); ok || s.cfg.SAMLocal == nil {
		if gw, found := core.GetAPIGatewayV2ContextFromContext(r.Context()); ok && found {
			a = withBranches(a, gw.Authorizer.JWT.Claims, s.cfg.BranchesClaim)
		}
		return a, ok, nil
	}
	claims, err := s.cfg.SAMLocal.claims(r)
	if err != nil {
		return credit.Actor{}, false, err
	}
	a, ok := actorFromClaims(claims, s.cfg.RolesClaim, s.cfg.RoleGroups)
	return withBranches(a, claims, s.cfg.BranchesClaim), ok, nil
}

// auditedReads are the reads that always leave a trail: handing out a
// credit report is as sensitive as making one. A handler adds its own reads
// when they hand out a report's contents (AuditRead).
var auditedReads = map[string]bool{
	"GET /consultations/{id}/pdf": true,
}

// audited reports whether calls to the route leave an audit event.
func audited(rt Route) bool {
	return rt.Method != http.MethodGet || auditedReads[rt.Pattern()]
}

// AuditRead puts this read on the audit trail: the handler is handing out
// a credit report's contents.
func AuditRead(r *http.Request) {
	if n := credit.AuditNoteFrom(r.Context()); n != nil {
		n.Read()
	}
}

// AuditTarget names, on the call's audit event, what the call touched
// beyond the path's ids: the id it created (consultationId, ...), the
// masked document it concerned. Documents must come masked.
func AuditTarget(r *http.Request, name, value string) {
	credit.NameAuditTarget(r.Context(), name, value)
}

// auditedWithRecord are the calls whose audit event is written with the
// record they create, and the status they answer once it is written (see
// credit.AuditNote).
var auditedWithRecord = map[string]int{
	"POST /consultations": http.StatusCreated,
}

// offerAudit offers the call's event to the store that writes the record
// the call creates.
func (s *Server) offerAudit(r *http.Request, rt Route, note *credit.AuditNote) {
	status, ok := auditedWithRecord[rt.Pattern()]
	if !ok || s.cfg.Audit == nil {
		return
	}
	note.Offer(s.auditEvent(r, rt, credit.AuditOutcome{Status: status}, note), s.now)
}

// audit appends the event of one call: every state-changing call, refused
// ones included, the reads in auditedReads and those the handler marked.
// Its target names the path's ids and what the handler added. A failure to
// append is logged, never turned into the caller's error: the call already
// happened.
func (s *Server) audit(r *http.Request, rt Route, status int, code string, note *credit.AuditNote) {
	if s.cfg.Audit == nil || !(audited(rt) || note.Reads()) {
		return
	}
	if written, ok := note.WrittenAs(); ok && written.Status == status && code == "" {
		return // written with the record the call created
	}
	e := s.auditEvent(r, rt, credit.AuditOutcome{Status: status, Code: code}, note)
	if err := s.cfg.Audit.AppendAudit(context.WithoutCancel(r.Context()), e); err != nil {
		Logger(r.Context()).ErrorContext(r.Context(), "audit event not recorded", slog.String("action", e.Action), slog.String("error", err.Error()))
	}
}

// auditEvent is the call's event with outcome: its target names the path's
// ids and what the call named.
func (s *Server) auditEvent(r *http.Request, rt Route, outcome credit.AuditOutcome, note *credit.AuditNote) credit.AuditEvent {
	newID := func() string { return uuid.Must(uuid.NewV7()).String() }
	if s.cfg.NewID != nil {
		newID = s.cfg.NewID
	}
	actor, _ := credit.ActorFrom(r.Context())
	if actor.Subject == "" {
		actor, _, _ = s.actor(r)
	}
	target := map[string]string{}
	for _, name := range wildcards(rt.Path) {
		target[name] = r.PathValue(name)
	}
	maps.Copy(target, note.Targets())
	e := credit.AuditEvent{
		ID: newID(), At: s.now().UTC(), Actor: credit.Actor{Subject: actor.Subject, Name: actor.Name},
		Action: rt.Pattern(), Target: target, RequestID: RequestID(r.Context()), Outcome: outcome,
	}
	if len(target) == 0 {
		e.Target = nil
	}
	return e
}

// wildcards lists the names of a path pattern's {wildcards}.
func wildcards(path string) []string {
	var names []string
	for _, seg := range strings.Split(path, "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			names = append(names, strings.TrimSuffix(strings.Trim(seg, "{}"), "..."))
		}
	}
	return names
}

// requestLogAttrs name the request on every log line: its id, the id of
// the Lambda invocation serving it when that differs, and the invocation's
// X-Ray trace id.
func requestLogAttrs(ctx context.Context, reqID string) []slog.Attr {
	attrs := []slog.Attr{slog.String("requestId", reqID)}
	for _, a := range lambdalog.Attrs(ctx) {
		if a.Key == lambdalog.LogAWSRequestID && a.Value.String() == reqID {
			continue
		}
		attrs = append(attrs, a)
	}
	return attrs
}

func requestIDOf(r *http.Request) string {
	if gw, ok := core.GetAPIGatewayV2ContextFromContext(r.Context()); ok && gw.RequestID != "" {
		return gw.RequestID
	}
	if lc, ok := lambdacontext.FromContext(r.Context()); ok && lc.AwsRequestID != "" {
		return lc.AwsRequestID
	}
	return uuid.NewString()
}

type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
	// code is the error code WriteError answered, for the audit trail.
	code string
}

func (w *statusWriter) setErrorCode(code string) { w.code = code }

func (w *statusWriter) WriteHeader(status int) {
	if !w.wrote {
		w.status, w.wrote = status, true
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

// Actor returns the authenticated caller of a non-public route.
func Actor(ctx context.Context) credit.Actor {
	a, _ := credit.ActorFrom(ctx)
	return a
}
