// Package eventbridgelocal is a small wire-compatible stand-in for Amazon
// EventBridge's PutEvents, so that the real SDK adapter is the code that
// publishes in the local stack and in tests. It speaks the AWS JSON 1.1
// transport (POST /, X-Amz-Target: AWSEvents.PutEvents), answers in
// EventBridge's shapes (per-entry EventId or ErrorCode, FailedEntryCount),
// and appends every accepted event, as a rule's target would receive it
// ({"version":"0","id",...,"detail":{...}}), one JSON object per line, to
// its events file.
//
// It checks no signature and no permission. Entries for a bus it does not
// know fail as EventBridge fails them.
package eventbridgelocal

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"creditanalysis/infra/localaws"

	"github.com/google/uuid"
)

// Region and Account appear in every event the stand-in writes.
const (
	Region  = localaws.Region
	Account = "000000000000"
)

// EventsFile is the file the events go to, inside the data directory.
const EventsFile = "events.jsonl"

const (
	maxBody    = 1 << 20
	maxEntries = 10
	// maxEntrySize is EventBridge's limit of one entry.
	maxEntrySize = 256 << 10
)

// Event is one event as EventBridge delivers it to a target.
type Event struct {
	Version    string          `json:"version"`
	ID         string          `json:"id"`
	DetailType string          `json:"detail-type"`
	Source     string          `json:"source"`
	Account    string          `json:"account"`
	Time       time.Time       `json:"time"`
	Region     string          `json:"region"`
	Resources  []string        `json:"resources"`
	Detail     json.RawMessage `json:"detail"`
}

// Server is the stand-in; it is an http.Handler, safe for concurrent use.
type Server struct {
	// Logger, when set before serving, gets one line per accepted event:
	// its detail-type and id, never its detail.
	Logger *slog.Logger

	mu     sync.Mutex
	path   string
	buses  []string
	failed int
}

// New returns a stand-in for buses (bus names; "default" is always known)
// appending to dir/EventsFile, created when missing.
func New(dir string, buses ...string) (*Server, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("eventbridgelocal: %w", err)
	}
	return &Server{path: filepath.Join(dir, EventsFile), buses: append([]string{"default"}, buses...)}, nil
}

// Path is the events file.
func (s *Server) Path() string { return s.path }

// FailNextEntries makes the next n entries fail with
// InternalFailure, as EventBridge fails an entry it could not take.
func (s *Server) FailNextEntries(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failed = n
}

type putEventsRequest struct {
	Entries []struct {
		Source       *string  `json:"Source"`
		DetailType   *string  `json:"DetailType"`
		Detail       *string  `json:"Detail"`
		EventBusName *string  `json:"EventBusName"`
		Time         *float64 `json:"Time"`
		Resources    []string `json:"Resources"`
	} `json:"Entries"`
}

type resultEntry struct {
	EventID      string `json:"EventId,omitempty"`
	ErrorCode    string `json:"ErrorCode,omitempty"`
	ErrorMessage string `json:"ErrorMessage,omitempty"`
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeError(w, http.StatusMethodNotAllowed, "UnknownOperationException", "POST only")
		return
	}
	if target := r.Header.Get("X-Amz-Target"); target != "AWSEvents.PutEvents" {
		writeError(w, http.StatusBadRequest, "UnknownOperationException", fmt.Sprintf("operation %q is not supported", target))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || len(body) > maxBody {
		writeError(w, http.StatusBadRequest, "ValidationException", "request too large or unreadable")
		return
	}
	var req putEventsRequest
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, "SerializationException", err.Error())
		return
	}
	if len(req.Entries) == 0 || len(req.Entries) > maxEntries {
		writeError(w, http.StatusBadRequest, "ValidationException", fmt.Sprintf("1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length between 1 and %d", maxEntries))
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	results := make([]resultEntry, len(req.Entries))
	var lines []byte
	failed := 0
	for i, e := range req.Entries {
		res := &results[i]
		bus := "default"
		if e.EventBusName != nil && *e.EventBusName != "" {
			bus = *e.EventBusName
		}
		switch {
		case e.Source == nil || *e.Source == "":
			res.ErrorCode, res.ErrorMessage = "InvalidArgument", "Parameter Source is not valid. Reason: Source is a required argument."
		case e.DetailType == nil || *e.DetailType == "":
			res.ErrorCode, res.ErrorMessage = "InvalidArgument", "Parameter DetailType is not valid. Reason: DetailType is a required argument."
		case e.Detail == nil || !json.Valid([]byte(*e.Detail)) || (*e.Detail)[0] != '{':
			res.ErrorCode, res.ErrorMessage = "MalformedDetail", "Detail is malformed."
		case len(*e.Detail)+len(*e.Source)+len(*e.DetailType) > maxEntrySize:
			res.ErrorCode, res.ErrorMessage = "InvalidArgument", "Entry is larger than 256 KB."
		case !slices.Contains(s.buses, bus):
			res.ErrorCode, res.ErrorMessage = "NotAuthorizedForSourceException", fmt.Sprintf("Event bus %s does not exist.", bus)
		case s.failed > 0:
			s.failed--
			res.ErrorCode, res.ErrorMessage = "InternalFailure", "Injected failure."
		}
		if res.ErrorCode != "" {
			failed++
			continue
		}
		at := time.Now().UTC()
		if e.Time != nil {
			sec, frac := math.Modf(*e.Time)
			at = time.Unix(int64(sec), int64(frac*1e9)).UTC()
		}
		resources := e.Resources
		if resources == nil {
			resources = []string{}
		}
		ev := Event{Version: "0", ID: uuid.NewString(), DetailType: *e.DetailType, Source: *e.Source, Account: Account,
			Time: at.Truncate(time.Second), Region: Region, Resources: resources, Detail: json.RawMessage(*e.Detail)}
		line, err := json.Marshal(ev)
		if err != nil {
			res.EventID, res.ErrorCode, res.ErrorMessage = "", "InternalFailure", err.Error()
			failed++
			continue
		}
		lines = append(append(lines, line...), '\n')
		res.EventID = ev.ID
		if s.Logger != nil {
			s.Logger.Info("event", slog.String("detailType", ev.DetailType), slog.String("id", ev.ID))
		}
	}
	if len(lines) > 0 {
		if err := appendFile(s.path, lines); err != nil {
			writeError(w, http.StatusInternalServerError, "InternalException", err.Error())
			return
		}
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(map[string]any{"FailedEntryCount": failed, "Entries": results})
}

func appendFile(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func writeError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": typ, "message": msg})
}

// ReadEvents reads an events file; a missing file holds no event.
func ReadEvents(path string) ([]Event, error) {
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Event
	dec := json.NewDecoder(bytes.NewReader(b))
	for dec.More() {
		var e Event
		if err := dec.Decode(&e); err != nil {
			return nil, fmt.Errorf("eventbridgelocal: %s: %w", path, err)
		}
		out = append(out, e)
	}
	return out, nil
}
