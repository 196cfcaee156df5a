package memory

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"sync"
	"time"

	"creditanalysis/shared/credit"
)

// Reports keeps report PDFs in memory; its "presigned" URLs are
// memory://<key>?expires=<unix>, read back with Fetch.
type Reports struct {
	mu   sync.Mutex
	pdfs map[string][]byte
	// reports holds the archived reports as JSON, so that a reader never
	// shares memory with the writer.
	reports map[string][]byte
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

func NewReports() *Reports { return &Reports{pdfs: map[string][]byte{}} }

var _ credit.ReportStore = (*Reports)(nil)

func (r *Reports) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Reports) Put(ctx context.Context, key string, pdf []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pdfs[key] = append([]byte(nil), pdf...)
	return nil
}

func (r *Reports) Delete(ctx context.Context, key string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.pdfs, key)
	return nil
}

func (r *Reports) Exists(ctx context.Context, key string) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.pdfs[key]
	return ok, nil
}

func (r *Reports) PresignGet(ctx context.Context, key string, ttl time.Duration) (string, time.Time, error) {
	exp := r.now().Add(ttl).UTC().Truncate(time.Second)
	u := url.URL{Scheme: "memory", Path: "/" + key, RawQuery: url.Values{"expires": {exp.Format(time.RFC3339)}}.Encode()}
	return u.String(), exp, nil
}

// Fetch downloads a URL PresignGet made, refusing an expired one.
func (r *Reports) Fetch(raw string) ([]byte, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	exp, err := time.Parse(time.RFC3339, u.Query().Get("expires"))
	if err != nil || r.now().After(exp) {
		return nil, credit.NewError(credit.KindForbidden, "link_expired", "Link expirado.")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	pdf, ok := r.pdfs[strings.TrimPrefix(u.Path, "/")]
	if !ok {
		return nil, credit.NotFound("Relatório")
	}
	return append([]byte(nil), pdf...), nil
}

var _ credit.ReportArchive = (*Reports)(nil)

// PutReport keeps a copy of r.
func (r *Reports) PutReport(ctx context.Context, key string, rep credit.Report) error {
	js, err := json.Marshal(rep)
	if err != nil {
		return credit.Internal(err, "memory: encode report")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.reports == nil {
		r.reports = map[string][]byte{}
	}
	r.reports[key] = js
	return nil
}

// GetReport reads a copy back.
func (r *Reports) GetReport(ctx context.Context, key string) (credit.Report, error) {
	r.mu.Lock()
	js, ok := r.reports[key]
	r.mu.Unlock()
	if !ok {
		return credit.Report{}, credit.NotFound("Relatório")
	}
	var rep credit.Report
	if err := json.Unmarshal(js, &rep); err != nil {
		return credit.Report{}, credit.Internal(err, "memory: decode report")
	}
	return rep, nil
}

// DeleteReport forgets the report under key.
func (r *Reports) DeleteReport(ctx context.Context, key string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.reports, key)
	return nil
}
