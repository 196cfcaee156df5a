package credit

import (
	"context"
	"log/slog"
	"slices"
	"time"
)

// CodePartyHasLiveNegativations refuses the erasure of a customer whose debt
// is, or may be, registered with the bureau.
const CodePartyHasLiveNegativations = "party_has_live_negativations"

// PartyErasure is the record of a party's erasure at its holder's request
// (LGPD art. 18): when, by whom, and how many consultations were reduced to
// their minimal record. It names the party by its ERP id only: nothing of
// the person is kept.
type PartyErasure struct {
	Kind          PartyKind
	ID            string
	ErasedAt      time.Time
	ErasedBy      Actor
	Consultations int
}

// ErasureService erases a party at its holder's request: its personal data
// and the reports of its consultations go, the consultations' minimal
// records and the audit trail stay.
type ErasureService struct {
	Parties       PartyStore
	Consultations ConsultationStore
	Negativations NegativationStore
	Reports       ReportStore
	// Archive keeps the full reports; nil when records hold them.
	Archive ReportArchive
	Now     Clock
	Log     *slog.Logger
}

// Erase erases the party. In order: a party never registered nor erased is
// not_found (404); a party already erased answers its erasure again; a
// customer with a live negativation (pending, active, being sent or
// removed, or of unknown outcome) is refused with
// party_has_live_negativations (409), since that record has its own legal
// basis (CDC art. 43) and must be removed first; a consultation of the
// document in progress is refused with consultation_in_progress (409). Then
// every consultation of
// the party's document, and every one made for the party, loses its report,
// raw answer and PDF and keeps its minimal record; last, the party record
// and its invoices go and the erasure is recorded.
func (s *ErasureService) Erase(ctx context.Context, kind PartyKind, id string) (PartyErasure, error) {
	p, err := s.Parties.GetParty(ctx, kind, id)
	if ErrorKind(err) == KindNotFound {
		if e, gerr := s.Parties.GetPartyErasure(ctx, kind, id); gerr == nil {
			return e, nil
		} else if ErrorKind(gerr) != KindNotFound {
			return PartyErasure{}, gerr
		}
		return PartyErasure{}, err
	} else if err != nil {
		return PartyErasure{}, err
	}
	if kind == PartyCustomer {
		if err := s.refuseLive(ctx, id); err != nil {
			return PartyErasure{}, err
		}
	}
	// Past this point the work goes on even if the caller leaves: a half
	// erasure is safe to run again, but better finished.
	ctx = context.WithoutCancel(ctx)
	// The document's mark keeps a consultation from recording a report
	// while its predecessors are erased; one in flight refuses the erasure
	// (consultation_in_progress) until it ends.
	owner := randomHex(16)
	last, found, err := s.Consultations.LockDocument(ctx, p.Document, owner, documentLockTTL)
	if err != nil {
		return PartyErasure{}, err
	}
	defer func() {
		if err := s.Consultations.UnlockDocument(ctx, p.Document, owner); err != nil {
			s.log().WarnContext(ctx, "document mark not removed; it expires by itself", slog.String("document", p.Document.Masked()), slog.String("error", err.Error()))
		}
	}()
	cs, err := s.consultationsOf(ctx, p)
	if err != nil {
		return PartyErasure{}, err
	}
	// The document's list may lag its records (a store's index); the mark
	// handed back the latest success, read with the mark itself.
	if found && !slices.ContainsFunc(cs, func(c Consultation) bool { return c.ID == last.ID }) {
		c, err := s.Consultations.GetConsultation(ctx, last.ID)
		if err != nil {
			return PartyErasure{}, err
		}
		cs = append(cs, c)
	}
	at := s.Now.Now()
	for _, c := range cs {
		if err := s.eraseReport(ctx, c, at); err != nil {
			return PartyErasure{}, err
		}
	}
	actor, _ := ActorFrom(ctx)
	e := PartyErasure{Kind: kind, ID: id, ErasedAt: at, ErasedBy: Actor{Subject: actor.Subject, Name: actor.Name}, Consultations: len(cs)}
	if err := s.Parties.ErasePartyData(ctx, e); err != nil {
		return PartyErasure{}, err
	}
	s.log().InfoContext(ctx, "party erased", slog.String("kind", string(kind)), slog.String("partyId", id),
		slog.String("document", p.Document.Masked()), slog.Int("consultations", len(cs)))
	return e, nil
}

// refuseLive refuses while the customer has a live negativation.
func (s *ErasureService) refuseLive(ctx context.Context, customerID string) error {
	live := map[NegativationStatus]int{}
	n := 0
	page := Page{Limit: MaxPageLimit}
	for {
		items, next, err := s.Negativations.ListNegativations(ctx, NegativationFilter{CustomerID: customerID}, page)
		if err != nil {
			return err
		}
		for _, neg := range items {
			if neg.Live() {
				live[neg.Status]++
				n++
			}
		}
		if next == "" {
			break
		}
		page.Cursor = next
	}
	if n == 0 {
		return nil
	}
	counts := make(map[string]any, len(live))
	for st, k := range live {
		counts[string(st)] = k
	}
	return NewError(KindConflict, CodePartyHasLiveNegativations,
		"Não é possível excluir os dados deste cliente enquanto houver negativação pendente ou ativa: o registro da dívida tem base legal própria (CDC art. 43). Solicite a baixa da negativação e tente novamente.").
		WithDetails(map[string]any{"liveNegativations": n, "byStatus": counts})
}

// consultationsOf lists, once each, the consultations of p's document and
// those made for p (whose document may have been another before an edit).
func (s *ErasureService) consultationsOf(ctx context.Context, p Party) ([]Consultation, error) {
	seen := map[string]bool{}
	var out []Consultation
	collect := func(list func(Page) ([]Consultation, string, error)) error {
		page := Page{Limit: MaxPageLimit}
		for {
			items, next, err := list(page)
			if err != nil {
				return err
			}
			for _, c := range items {
				if !seen[c.ID] {
					seen[c.ID] = true
					out = append(out, c)
				}
			}
			if next == "" {
				return nil
			}
			page.Cursor = next
		}
	}
	if err := collect(func(pg Page) ([]Consultation, string, error) {
		return s.Consultations.ListConsultations(ctx, ConsultationFilter{Document: p.Document}, pg)
	}); err != nil {
		return nil, err
	}
	if err := collect(func(pg Page) ([]Consultation, string, error) {
		return s.Consultations.ListPartyConsultations(ctx, PartyRef{Kind: p.Kind, ID: p.ID}, pg)
	}); err != nil {
		return nil, err
	}
	return out, nil
}

// eraseReport deletes c's PDF and archived report, then reduces its record:
// the keys stay on the record until their objects are gone, so a failure
// leaves something a second run finds.
func (s *ErasureService) eraseReport(ctx context.Context, c Consultation, at time.Time) error {
	if c.PDFKey != "" && s.Reports != nil {
		if err := s.Reports.Delete(ctx, c.PDFKey); err != nil {
			return err
		}
	}
	if c.ReportKey != "" && s.Archive != nil {
		if err := s.Archive.DeleteReport(ctx, c.ReportKey); err != nil {
			return err
		}
	}
	return s.Consultations.EraseConsultationReport(ctx, c.ID, at)
}

func (s *ErasureService) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}
