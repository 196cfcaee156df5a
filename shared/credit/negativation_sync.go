package credit

import (
	"context"
	"slices"
)

// SyncRequest asks the bureau about the records still in motion: of one
// integration, or of all when IntegrationID is empty.
type SyncRequest struct {
	IntegrationID string
	// RunID names the billing-rule run syncing, if any; history entries
	// carry it.
	RunID string
}

// SyncError is a failure of one integration's sync.
type SyncError struct {
	IntegrationID string
	Code          string
	Message       string
}

// SyncResult counts what a sync saw and did.
type SyncResult struct {
	Integrations int
	// Examined records were asked about; Changed moved, counted by their new
	// status in ByStatus.
	Examined int
	Changed  int
	ByStatus map[NegativationStatus]int
	Errors   []SyncError
}

// syncBatch is how many references go in one status call.
const syncBatch = 50

// Sync asks the bureau about every pending record and every stale
// submitting, removing or unknown-outcome failed record, and moves each to
// what the bureau reports, appending to its history who (or which run)
// synced and the bureau's message. A submitting or failed record the bureau
// does not know is failed for sure (no longer live), ready to be retried.
//
// With an IntegrationID a bureau fault is returned; across all integrations
// each integration's fault is listed in the result and the others go on.
// The master switch does not stop it: removals depend on it.
func (s *NegativationService) Sync(ctx context.Context, req SyncRequest) (SyncResult, error) {
	return s.sync(ctx, s.own(), req)
}

func (s *NegativationService) sync(ctx context.Context, d negativationDeps, req SyncRequest) (SyncResult, error) {
	res := SyncResult{ByStatus: map[NegativationStatus]int{}, Errors: []SyncError{}}
	if req.IntegrationID != "" && !ValidID(req.IntegrationID) {
		var fe FieldErrors
		fe.Add("integrationId", "identificador inválido")
		return res, fe.Err()
	}
	if req.RunID != "" && !ValidID(req.RunID) {
		var fe FieldErrors
		fe.Add("runId", "identificador inválido")
		return res, fe.Err()
	}
	if req.IntegrationID != "" {
		i, err := d.integrations.GetIntegration(ctx, req.IntegrationID)
		if err != nil {
			return res, err
		}
		if err := AllowBranch(ctx, i.BranchID); err != nil {
			return res, err
		}
		res.Integrations = 1
		return res, s.syncIntegration(ctx, d, i, req.RunID, &res)
	}
	cursor := ""
	for {
		page, next, err := d.integrations.ListIntegrations(ctx, BranchesOf(ctx), Page{Limit: MaxPageLimit, Cursor: cursor})
		if err != nil {
			return res, err
		}
		for _, i := range page {
			res.Integrations++
			if err := s.syncIntegration(ctx, d, i, req.RunID, &res); err != nil {
				if ErrorKind(err) == KindInternal {
					return res, err
				}
				res.Errors = append(res.Errors, SyncError{IntegrationID: i.ID, Code: ErrorCode(err), Message: ErrorMessage(err)})
			}
		}
		if next == "" {
			return res, nil
		}
		cursor = next
	}
}

func (s *NegativationService) syncIntegration(ctx context.Context, d negativationDeps, i Integration, runID string, res *SyncResult) error {
	now := s.Now.Now()
	var todo []Negativation
	for _, st := range []NegativationStatus{NegativationPending, NegativationSubmitting, NegativationFailed, NegativationRemoving} {
		// What the sync acts on is live, and an integration with live
		// records cannot move: they are all in its branch.
		err := s.each(ctx, NegativationFilter{IntegrationID: i.ID, Status: st, Branches: Branches{i.BranchID}}, func(n Negativation) {
			switch {
			case n.Status == NegativationPending,
				n.Status == NegativationFailed && n.OutcomeUnknown && n.stale(now),
				(n.Status == NegativationSubmitting || n.Status == NegativationRemoving) && n.stale(now):
				todo = append(todo, n)
			}
		})
		if err != nil {
			return err
		}
	}
	if len(todo) == 0 {
		return nil
	}
	if _, err := d.bureau.Account(ctx, i); err != nil {
		return err
	}
	actor := who(ctx)
	for batch := range slices.Chunk(todo, syncBatch) {
		refs := make([]string, len(batch))
		for k, n := range batch {
			refs[k] = n.ID
		}
		recs, err := d.bureau.Status(ctx, i, refs)
		if err != nil {
			return err
		}
		known := make(map[string]BureauRecord, len(recs))
		for _, r := range recs {
			known[r.Reference] = r
		}
		for _, n := range batch {
			res.Examined++
			rec, found := known[n.ID]
			changed := false
			updated, err := s.Store.UpdateNegativation(ctx, n.ID, func(cur *Negativation) error {
				err := cur.Reconcile(s.Now.Now(), actor, runID, rec, found)
				changed = err == nil
				return err
			})
			if err != nil {
				return err
			}
			if changed {
				res.Changed++
				res.ByStatus[updated.Status]++
			}
		}
	}
	return nil
}

// each calls fn for every record matching f, page by page.
func (s *NegativationService) each(ctx context.Context, f NegativationFilter, fn func(Negativation)) error {
	cursor := ""
	for {
		page, next, err := s.Store.ListNegativations(ctx, f, Page{Limit: MaxPageLimit, Cursor: cursor})
		if err != nil {
			return err
		}
		for _, n := range page {
			fn(n)
		}
		if next == "" {
			return nil
		}
		cursor = next
	}
}
