// Package secretsmanagerlocal is a small wire-compatible stand-in for AWS
// Secrets Manager, so that the real SDK adapter is the code that runs in the
// local stack and in tests. It owns the AWS JSON 1.1 transport (POST /,
// X-Amz-Target: secretsmanager.<Op>), the operations the adapter uses
// (CreateSecret, GetSecretValue, PutSecretValue, UpdateSecretVersionStage,
// DescribeSecret, DeleteSecret) with AWS's version-stage semantics
// (AWSCURRENT, AWSPENDING, AWSPREVIOUS), AWS's error shapes, the state file
// under a data directory, and failure injection for tests.
//
// It checks no signature and no permission. It never logs a secret value;
// its state file holds them in plain text, readable by its owner only, like
// every other local-only data file.
package secretsmanagerlocal

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// Region and Account appear in every ARN the stand-in issues.
const (
	Region  = "us-east-1"
	Account = "000000000000"
)

// StateFile is the name of the state file inside the data directory.
const StateFile = "secrets.json"

// maxBody bounds a request: a secret value is at most 64 KiB.
const maxBody = 1 << 20

// Server is the stand-in; it is an http.Handler, safe for concurrent use.
type Server struct {
	// Now is the clock; time.Now when nil. Set it before serving.
	Now func() time.Time
	// Logger, when set before serving, gets one line per request: the
	// operation, the secret's ID and the outcome, never a value.
	Logger *slog.Logger

	mu     sync.Mutex
	dir    string
	state  state
	saved  []byte // the last state written (or loaded), to undo a failed write
	hook   func(op string) error
	faults []fault
}

type fault struct {
	op    string
	after bool
	err   error
}

// New returns a stand-in keeping its state in dataDir/StateFile (created
// when missing; an existing file is loaded, so state survives a restart).
// dataDir "" keeps everything in memory.
func New(dataDir string) (*Server, error) {
	s := &Server{dir: dataDir, state: state{Secrets: map[string]*secret{}}}
	if dataDir == "" {
		return s, nil
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("secretsmanagerlocal: %w", err)
	}
	b, err := os.ReadFile(filepath.Join(dataDir, StateFile))
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("secretsmanagerlocal: %w", err)
	default:
		if err := json.Unmarshal(b, &s.state); err != nil {
			return nil, fmt.Errorf("secretsmanagerlocal: corrupt state file %s: %w", filepath.Join(dataDir, StateFile), err)
		}
		if s.state.Secrets == nil {
			s.state.Secrets = map[string]*secret{}
		}
		s.saved = b
	}
	return s, nil
}

// Error is an answer in Secrets Manager's error shape:
// {"__type": Type, "message": Message} with Status. The SDK turns the AWS
// types (ResourceNotFoundException, ...) into its typed errors.
type Error struct {
	Status  int
	Type    string
	Message string
}

func (e *Error) Error() string { return e.Type + ": " + e.Message }

// InternalServiceError is AWS's 500; note that the SDK retries it, so one
// injected InternalServiceError is usually invisible to the caller.
func InternalServiceError(message string) *Error {
	return &Error{Status: http.StatusInternalServerError, Type: "InternalServiceError", Message: message}
}

// InjectedFailure is the type answered for an injected error that is not an
// *Error: a 400 the SDK does not retry, so one injected failure reaches the
// caller exactly once.
const InjectedFailure = "InjectedFailureException"

// FailNext makes the next request for op (an operation name such as
// "PutSecretValue") fail with err before changing anything.
func (s *Server) FailNext(op string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, fault{op: op, err: err})
}

// FailNextAfter makes the next request for op take effect and then answer
// err: a lost answer, as after a timeout.
func (s *Server) FailNextAfter(op string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, fault{op: op, after: true, err: err})
}

// Inject makes every request first call hook with its operation name,
// outside the server's lock (so a hook may block to order a test's steps);
// a non-nil answer fails the request before it changes anything. A nil
// hook removes it.
func (s *Server) Inject(hook func(op string) error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hook = hook
}

// takeFault removes and returns the first fault queued for op and phase.
func (s *Server) takeFault(op string, after bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if f.op == op && f.after == after {
			s.faults = append(s.faults[:i], s.faults[i+1:]...)
			return f.err
		}
	}
	return nil
}

func asAPIError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Status: http.StatusBadRequest, Type: InjectedFailure, Message: err.Error()}
}

// operation decodes its request from body, changes st, and returns the
// answer; changed says whether st must be written.
type operation func(s *Server, body []byte) (out any, changed bool, err error)

var operations = map[string]operation{
	"CreateSecret":             (*Server).createSecret,
	"GetSecretValue":           (*Server).getSecretValue,
	"PutSecretValue":           (*Server).putSecretValue,
	"UpdateSecretVersionStage": (*Server).updateSecretVersionStage,
	"DescribeSecret":           (*Server).describeSecret,
	"DeleteSecret":             (*Server).deleteSecret,
}

const targetPrefix = "secretsmanager."

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), targetPrefix)
	secretID, err := s.serve(w, r, op)
	if s.Logger != nil {
		attrs := []any{"op", op, "secretId", secretID}
		if err != nil {
			attrs = append(attrs, "status", err.Status, "errorType", err.Type)
		} else {
			attrs = append(attrs, "status", http.StatusOK)
		}
		s.Logger.Info("secretsmanager request", attrs...)
	}
	if err != nil {
		writeJSON(w, err.Status, map[string]string{"__type": err.Type, "message": err.Message})
	}
}

// serve answers one request; on failure it returns the error to write.
func (s *Server) serve(w http.ResponseWriter, r *http.Request, op string) (secretID string, apiErr *Error) {
	if r.Method != http.MethodPost || r.URL.Path != "/" {
		return "", &Error{Status: http.StatusNotFound, Type: "UnknownOperationException", Message: "only POST / is served"}
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-amz-json-1.1") {
		return "", &Error{Status: http.StatusBadRequest, Type: "SerializationException", Message: "Content-Type must be application/x-amz-json-1.1"}
	}
	run, ok := operations[op]
	if !ok || !strings.HasPrefix(r.Header.Get("X-Amz-Target"), targetPrefix) {
		return "", &Error{Status: http.StatusBadRequest, Type: "UnknownOperationException", Message: fmt.Sprintf("unknown operation %q", r.Header.Get("X-Amz-Target"))}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		return "", &Error{Status: http.StatusRequestEntityTooLarge, Type: "SerializationException", Message: "request too large"}
	}
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	var ids struct {
		SecretID string `json:"SecretId"`
		Name     string `json:"Name"`
	}
	if err := json.Unmarshal(body, &ids); err != nil {
		return "", &Error{Status: http.StatusBadRequest, Type: "SerializationException", Message: "malformed JSON body"}
	}
	secretID = ids.SecretID + ids.Name

	s.mu.Lock()
	hook := s.hook
	s.mu.Unlock()
	if hook != nil {
		if err := hook(op); err != nil {
			return secretID, asAPIError(err)
		}
	}
	if err := s.takeFault(op, false); err != nil {
		return secretID, asAPIError(err)
	}

	out, err := s.apply(run, body)
	if err != nil {
		return secretID, asAPIError(err)
	}
	if err := s.takeFault(op, true); err != nil {
		return secretID, asAPIError(err)
	}
	writeJSON(w, http.StatusOK, out)
	return secretID, nil
}

// apply runs one operation under the lock and writes the state it changed;
// when the write fails, the change is undone.
func (s *Server) apply(run operation, body []byte) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	purged := s.purge()
	out, changed, err := run(s, body)
	if err == nil && (changed || purged) {
		if werr := s.save(); werr != nil {
			s.restore()
			return nil, InternalServiceError("could not write the state file")
		}
	}
	if err != nil && purged {
		if werr := s.save(); werr != nil {
			s.restore()
		}
	}
	return out, err
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// purge forgets the secrets whose recovery window has ended, as AWS does.
func (s *Server) purge() bool {
	now := s.now()
	purged := false
	for name, sec := range s.state.Secrets {
		if sec.DeletionDate != nil && !now.Before(*sec.DeletionDate) {
			delete(s.state.Secrets, name)
			purged = true
		}
	}
	return purged
}

// save writes the state atomically: a temporary file, then a rename.
func (s *Server) save() error {
	b, err := json.MarshalIndent(s.state, "", "  ")
	if err != nil {
		return err
	}
	if s.dir == "" {
		s.saved = b
		return nil
	}
	tmp, err := os.CreateTemp(s.dir, StateFile+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // a no-op after the rename
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), filepath.Join(s.dir, StateFile)); err != nil {
		return err
	}
	s.saved = b
	return nil
}

// restore goes back to the last state written.
func (s *Server) restore() {
	st := state{Secrets: map[string]*secret{}}
	if s.saved != nil {
		_ = json.Unmarshal(s.saved, &st)
		if st.Secrets == nil {
			st.Secrets = map[string]*secret{}
		}
	}
	s.state = st
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"__type":"InternalServiceError","message":"could not encode the answer"}`)
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-RequestId", uuid.NewString())
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
