// Package sandbox is a stand-in for the Connect SA bureau: an HTTP server
// that speaks the wire format the connectsa adapter uses (the publicly
// observed consultation endpoint, and the PEFIN, password, product, code and
// access endpoints modelled in the same style), with accounts, password
// rules, deterministic reports per document, negativation records that move
// from pending to active or rejected, and configurable faults (latency,
// server errors, timeouts, lost answers, malformed bodies).
//
// Like a homologation environment, it enrols an unknown login on its first
// call with the passwords presented, then enforces them. All state is in
// memory and lost on restart.
package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Operation names one endpoint, for targeting faults.
type Operation string

const (
	OpConsult  Operation = "consulta"
	OpInclude  Operation = "inclusao"
	OpRemove   Operation = "baixa"
	OpStatus   Operation = "situacao"
	OpCodes    Operation = "codigos"
	OpPassword Operation = "senha"
	OpProducts Operation = "produtos"
	OpAccess   Operation = "acesso"
)

// Paths of the endpoints, relative to the server's root.
const (
	PathConsult  = "/mercurio/ws_consulta/"
	PathInclude  = "/mercurio/ws_pefin/inclusao/"
	PathRemove   = "/mercurio/ws_pefin/baixa/"
	PathStatus   = "/mercurio/ws_pefin/situacao/"
	PathCodes    = "/mercurio/ws_pefin/codigos/"
	PathPassword = "/mercurio/ws_senha/"
	PathProducts = "/mercurio/ws_produtos/"
	PathAccess   = "/mercurio/ws_acesso/"
)

// Config sets the sandbox's behaviour. The zero value is a fast, faultless
// bureau whose inclusions become active at the first status call.
type Config struct {
	// Latency is added to every answer; LatencyJitter adds a uniformly random
	// extra in [0, LatencyJitter).
	Latency       time.Duration
	LatencyJitter time.Duration
	// ErrorRate (0..1) of the calls answer 503 without doing anything.
	ErrorRate float64
	// TimeoutRate (0..1) of the calls stall without doing anything, until the
	// client gives up (or TimeoutAfter), then answer 504.
	TimeoutRate float64
	// LostAnswerRate (0..1) of the calls do their work, then stall like a
	// timeout before answering: the bureau applied the change but the client
	// never learns it.
	LostAnswerRate float64
	// MalformedRate (0..1) of the calls do their work, then answer a broken
	// body (truncated JSON, wrong types, an HTML page, nothing).
	MalformedRate float64
	// TimeoutAfter bounds a stall; zero waits until the client disconnects
	// (at most MaxStall).
	TimeoutAfter time.Duration
	// ActivationDelay is how long an inclusion stays pending before a status
	// call reports it active (or rejected, for the rejection scenario).
	ActivationDelay time.Duration
	// FaultOperations limits latency and the rate-based faults to these
	// operations; empty means every operation. The scenario documents fault
	// whatever this says.
	FaultOperations []Operation
	// Seed makes the random faults reproducible.
	Seed int64
	// Now is the clock (time.Now when nil), for tests of ActivationDelay.
	Now func() time.Time
}

// MaxStall bounds a stall whose TimeoutAfter is zero.
const MaxStall = 10 * time.Minute

// maxRequestBytes bounds a request's form.
const maxRequestBytes = 64 << 10

// OversizedAnswerBytes is the size of the oversized-answer scenario's body.
const OversizedAnswerBytes = 16 << 20

// Server is the sandbox: an http.Handler, safe for concurrent use.
type Server struct {
	mu       sync.Mutex
	cfg      Config
	rng      *rand.Rand
	accounts map[string]*account
	seq      int64
	started  int64

	mux       *http.ServeMux
	closed    chan struct{}
	closeOnce sync.Once
}

// New returns a sandbox with no accounts.
func New(cfg Config) *Server {
	s := &Server{
		accounts: map[string]*account{},
		started:  time.Now().Unix(),
		mux:      http.NewServeMux(),
		closed:   make(chan struct{}),
	}
	s.SetConfig(cfg)
	s.route(PathConsult, OpConsult, s.consult)
	s.route(PathInclude, OpInclude, s.include)
	s.route(PathRemove, OpRemove, s.remove)
	s.route(PathStatus, OpStatus, s.status)
	s.route(PathCodes, OpCodes, s.codes)
	s.route(PathPassword, OpPassword, s.changePassword)
	s.route(PathProducts, OpProducts, s.products)
	s.route(PathAccess, OpAccess, s.access)
	s.mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	})
	return s
}

// SetConfig replaces the configuration; calls in flight keep the old one.
// The random source restarts from cfg.Seed.
func (s *Server) SetConfig(cfg Config) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg = cfg
	s.rng = rand.New(rand.NewPCG(uint64(cfg.Seed), 0x5eed))
}

// Config returns the configuration in force.
func (s *Server) Config() Config {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg
}

// Close releases every stalled answer; the server keeps answering others.
func (s *Server) Close() { s.closeOnce.Do(func() { close(s.closed) }) }

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// outcome is what a handler decided to answer.
type outcome struct {
	body any
	// scenario overrides the body with a scenario's fault.
	scenario behaviour
}

func (s *Server) route(path string, op Operation, handle func(form formValues, now time.Time) outcome) {
	s.mux.HandleFunc("POST "+path+"{$}", func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxRequestBytes)
		if err := r.ParseForm(); err != nil {
			writeJSON(w, http.StatusBadRequest, statusOnly{newStatus(codeRejected, "Requisição inválida.", "")})
			return
		}
		cfg, faults := s.faultPlan(op)
		if !s.sleep(r, faults.latency) {
			return
		}
		if faults.serverError {
			serverError(w)
			return
		}
		if faults.timeout {
			s.stall(r, cfg)
			gatewayTimeout(w)
			return
		}
		out := handle(formValues(r.PostForm), cfg.Now())
		switch out.scenario {
		case answerServerError:
			serverError(w)
			return
		case answerTimeout:
			s.stall(r, cfg)
			gatewayTimeout(w)
			return
		case answerOversized:
			writeOversized(w)
			return
		}
		body, err := json.Marshal(out.body)
		if err != nil {
			serverError(w)
			return
		}
		if faults.lostAnswer {
			if !s.stall(r, cfg) {
				return
			}
		}
		if out.scenario == answerMalformed {
			body = body[:len(body)/2]
		} else if faults.malformed {
			body = s.malformed(body)
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		w.Write(body)
	})
}

type faultPlan struct {
	latency                                     time.Duration
	serverError, timeout, lostAnswer, malformed bool
}

// faultPlan rolls this call's faults under the lock, so that a seed gives the
// same sequence of faults for the same sequence of calls.
func (s *Server) faultPlan(op Operation) (Config, faultPlan) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cfg := s.cfg
	if len(cfg.FaultOperations) > 0 && !slices.Contains(cfg.FaultOperations, op) {
		return cfg, faultPlan{}
	}
	p := faultPlan{latency: cfg.Latency}
	if cfg.LatencyJitter > 0 {
		p.latency += time.Duration(s.rng.Int64N(int64(cfg.LatencyJitter)))
	}
	roll := func(rate float64) bool { return rate > 0 && s.rng.Float64() < rate }
	p.serverError = roll(cfg.ErrorRate)
	p.timeout = !p.serverError && roll(cfg.TimeoutRate)
	p.lostAnswer = roll(cfg.LostAnswerRate)
	p.malformed = roll(cfg.MalformedRate)
	return cfg, p
}

// sleep waits d, or less if the client leaves; it reports whether the client
// is still there.
func (s *Server) sleep(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	case <-s.closed:
		return false
	}
}

// stall holds the answer back like a bureau that hangs; it reports whether
// the client is still there afterwards.
func (s *Server) stall(r *http.Request, cfg Config) bool {
	d := cfg.TimeoutAfter
	if d <= 0 {
		d = MaxStall
	}
	return s.sleep(r, d)
}

func (s *Server) malformed(body []byte) []byte {
	s.mu.Lock()
	n := s.rng.IntN(5)
	s.mu.Unlock()
	switch n {
	case 0:
		return body[:len(body)/2]
	case 1:
		// Numbers where text is expected and the other way round.
		return []byte(`{"status":{"codigoResposta":"zero","mensagem":7,"protocolo":{}},"resultado":[]}`)
	case 2:
		return []byte("<html><body><h1>502 Bad Gateway</h1></body></html>")
	case 3:
		return nil
	default:
		return append(bytes.Clone(body), []byte(`{"status":`)...)
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	body, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	w.Write(body)
}

func serverError(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusServiceUnavailable)
	io.WriteString(w, "<html><body><h1>503 Service Unavailable</h1></body></html>")
}

func gatewayTimeout(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusGatewayTimeout)
	io.WriteString(w, "<html><body><h1>504 Gateway Time-out</h1></body></html>")
}

// writeOversized streams a valid but enormous JSON answer without holding it
// in memory.
func writeOversized(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, `{"status":{"codigoResposta":0,"mensagem":"`)
	chunk := bytes.Repeat([]byte("a"), 64<<10)
	for n := 0; n < OversizedAnswerBytes; n += len(chunk) {
		if _, err := w.Write(chunk); err != nil {
			return
		}
	}
	io.WriteString(w, `"}}`)
}

// protocol returns a new protocol number; the caller holds s.mu.
func (s *Server) protocol() string {
	s.seq++
	return fmt.Sprintf("SBX%06d%08d", s.started%1_000_000, s.seq)
}

// formValues reads the form the way the bureau would: the first value of a
// field, or every value for a repeated one.
type formValues map[string][]string

func (f formValues) get(name string) string {
	if v := f[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}
