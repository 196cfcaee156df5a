package memory

import (
	"context"
	"encoding/base64"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"creditanalysis/shared/credit"
)

var _ credit.ConsultationStore = (*Consultations)(nil)

// Consultations is the in-memory ConsultationStore.
type Consultations struct {
	// Now is the clock the document marks expire by; time.Now when nil.
	Now func() time.Time

	mu     sync.Mutex
	byID   map[string]credit.Consultation
	latest map[string]credit.ConsultationRef // document -> newest success
	marks  map[string]documentMark           // document -> in-flight mark
}

type documentMark struct {
	owner string
	until time.Time
}

func NewConsultations() *Consultations {
	return &Consultations{byID: map[string]credit.Consultation{}, latest: map[string]credit.ConsultationRef{}, marks: map[string]documentMark{}}
}

func (s *Consultations) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Consultations) CreateConsultation(ctx context.Context, c credit.Consultation) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.byID[c.ID] = cloneConsultation(c)
	if c.Status == credit.ConsultationSucceeded {
		s.latest[c.Document.Number()] = credit.ConsultationRef{ID: c.ID, CreatedAt: c.CreatedAt}
	}
	return nil
}

func (s *Consultations) GetConsultation(ctx context.Context, id string) (credit.Consultation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.byID[id]
	if !ok {
		return credit.Consultation{}, credit.NotFound("Consulta")
	}
	return cloneConsultation(c), nil
}

func (s *Consultations) EraseConsultationReport(ctx context.Context, id string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.byID[id]
	if !ok {
		return credit.NotFound("Consulta")
	}
	s.byID[id] = c.Erased(at)
	return nil
}

func (s *Consultations) DropConsultationReport(ctx context.Context, c credit.Consultation) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byID[c.ID]; !ok {
		return credit.NotFound("Consulta")
	}
	s.byID[c.ID] = cloneConsultation(c.WithoutReport())
	return nil
}

func (s *Consultations) ListConsultations(ctx context.Context, f credit.ConsultationFilter, p credit.Page) ([]credit.Consultation, string, error) {
	from, until := f.Range()
	query := fmt.Sprintf("all|%d|%d|%s|%s|%s|%s|%s", from.UnixMilli(), until.UnixMilli(), f.IntegrationID, f.Plan, f.Document.Number(), f.Status, scopeKey(f.Branches))
	return s.list(query, p, f.Matches)
}

func (s *Consultations) ListPartyConsultations(ctx context.Context, party credit.PartyRef, p credit.Page) ([]credit.Consultation, string, error) {
	return s.list("party|"+string(party.Kind)+"|"+party.ID, p, func(c credit.Consultation) bool {
		return c.Party != nil && *c.Party == party
	})
}

// list pages by keyset (createdAt, id), so that records created between
// pages neither repeat nor shift the next page; the cursor names its query.
func (s *Consultations) list(query string, p credit.Page, keep func(credit.Consultation) bool) ([]credit.Consultation, string, error) {
	p = p.Normalized()
	var after *credit.ConsultationRef
	if p.Cursor != "" {
		ref, ok := decodeConsultationCursor(p.Cursor, query)
		if !ok {
			return nil, "", credit.ErrInvalidCursor
		}
		after = &ref
	}
	s.mu.Lock()
	var all []credit.Consultation
	for _, c := range s.byID {
		if keep(c) && (after == nil || newerFirst(*after, credit.ConsultationRef{ID: c.ID, CreatedAt: c.CreatedAt})) {
			c.Report = nil
			all = append(all, cloneConsultation(c))
		}
	}
	s.mu.Unlock()
	sort.Slice(all, func(a, b int) bool {
		return newerFirst(credit.ConsultationRef{ID: all[a].ID, CreatedAt: all[a].CreatedAt}, credit.ConsultationRef{ID: all[b].ID, CreatedAt: all[b].CreatedAt})
	})
	if len(all) <= p.Limit {
		return all, "", nil
	}
	last := all[p.Limit-1]
	return all[:p.Limit], encodeConsultationCursor(query, credit.ConsultationRef{ID: last.ID, CreatedAt: last.CreatedAt}), nil
}

// newerFirst orders by creation, newest first, then by id descending.
func newerFirst(a, b credit.ConsultationRef) bool {
	if !a.CreatedAt.Equal(b.CreatedAt) {
		return a.CreatedAt.After(b.CreatedAt)
	}
	return a.ID > b.ID
}

func encodeConsultationCursor(query string, ref credit.ConsultationRef) string {
	return base64.RawURLEncoding.EncodeToString([]byte(query + "\n" + ref.CreatedAt.UTC().Format(time.RFC3339Nano) + "\n" + ref.ID))
}

func decodeConsultationCursor(cursor, query string) (credit.ConsultationRef, bool) {
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return credit.ConsultationRef{}, false
	}
	parts := strings.Split(string(b), "\n")
	if len(parts) != 3 || parts[0] != query {
		return credit.ConsultationRef{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, parts[1])
	if err != nil {
		return credit.ConsultationRef{}, false
	}
	return credit.ConsultationRef{ID: parts[2], CreatedAt: t}, true
}

func (s *Consultations) LastSucceededConsultation(ctx context.Context, doc credit.Document) (credit.ConsultationRef, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ref, ok := s.latest[doc.Number()]
	return ref, ok, nil
}

func (s *Consultations) LockDocument(ctx context.Context, doc credit.Document, owner string, ttl time.Duration) (credit.ConsultationRef, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if m, ok := s.marks[doc.Number()]; ok && m.owner != owner && now.Before(m.until) {
		return credit.ConsultationRef{}, false, credit.ErrConsultationInProgress
	}
	s.marks[doc.Number()] = documentMark{owner: owner, until: now.Add(ttl)}
	ref, found := s.latest[doc.Number()]
	return ref, found, nil
}

func (s *Consultations) CreateConsultationUnlocking(ctx context.Context, c credit.Consultation, owner string) error {
	if err := s.CreateConsultation(ctx, c); err != nil {
		return err
	}
	return s.UnlockDocument(ctx, c.Document, owner)
}

func (s *Consultations) UnlockDocument(ctx context.Context, doc credit.Document, owner string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m, ok := s.marks[doc.Number()]; ok && m.owner == owner {
		delete(s.marks, doc.Number())
	}
	return nil
}

// cloneConsultation copies what a caller could change through the record
// (slices and pointers), so that the store's copy stays as written.
func cloneConsultation(c credit.Consultation) credit.Consultation {
	if c.Party != nil {
		p := *c.Party
		c.Party = &p
	}
	if c.Report != nil {
		r := *c.Report
		c.Report = &r
	}
	if c.Overview.Score != nil {
		v := *c.Overview.Score
		c.Overview.Score = &v
	}
	c.Warnings = append([]credit.Warning(nil), c.Warnings...)
	return c
}
