package memory

import (
	"context"
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
