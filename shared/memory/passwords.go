package memory

import (
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"slices"
	"strconv"
	"sync"
	"time"

	"creditanalysis/shared/credit"
)

// PasswordHistory is the in-memory credit.PasswordStore: leases, change
// records and replaced-password hashes in maps behind one mutex.
type PasswordHistory struct {
	// Now is the clock leases expire by; time.Now when nil.
	Now func() time.Time

	mu      sync.Mutex
	leases  map[string]credit.PasswordLease    // integration ID -> lease
	changes map[string][]credit.PasswordChange // integration ID -> changes, in start order
	hashes  map[string]map[string]passwordHash // integration ID + kind -> change ID -> hash
	seq     int
	inject  func(op string) error
}

type passwordHash struct {
	seq  int
	hash string
}

// NewPasswordHistory returns an empty store.
func NewPasswordHistory() *PasswordHistory {
	return &PasswordHistory{
		leases:  map[string]credit.PasswordLease{},
		changes: map[string][]credit.PasswordChange{},
		hashes:  map[string]map[string]passwordHash{},
	}
}

var _ credit.PasswordStore = (*PasswordHistory)(nil)

// Inject makes every later call first ask hook, with the method's name
// ("AcquirePasswordLease", "ReleasePasswordLease", "BeginPasswordChange",
// "FinishPasswordChange", "OpenPasswordChanges", "PasswordHashes",
// "ListPasswordChanges"); a non-nil answer fails the call (as
// credit.Internal unless it is a *credit.Error) without changing anything.
// A nil hook removes it.
func (h *PasswordHistory) Inject(hook func(op string) error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.inject = hook
}

// begin locks h and runs the injected hook.
func (h *PasswordHistory) begin(op string) error {
	h.mu.Lock()
	if h.inject == nil {
		return nil
	}
	if err := h.inject(op); err != nil {
		h.mu.Unlock()
		if _, ok := credit.AsError(err); ok {
			return err
		}
		return credit.Internal(err, "memory passwords: %s", op)
	}
	return nil
}

func (h *PasswordHistory) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func hashKey(integrationID string, kind credit.CredentialKind) string {
	return integrationID + "#" + string(kind)
}

func (h *PasswordHistory) AcquirePasswordLease(ctx context.Context, l credit.PasswordLease) error {
	if err := h.begin("AcquirePasswordLease"); err != nil {
		return err
	}
	defer h.mu.Unlock()
	if cur, held := h.leases[l.IntegrationID]; held && cur.HolderID != l.HolderID && h.now().Before(cur.Until) {
		return credit.ErrPasswordChangeInProgress(cur.Kind)
	}
	h.leases[l.IntegrationID] = l
	return nil
}

func (h *PasswordHistory) ReleasePasswordLease(ctx context.Context, integrationID, holderID string) error {
	if err := h.begin("ReleasePasswordLease"); err != nil {
		return err
	}
	defer h.mu.Unlock()
	if cur, held := h.leases[integrationID]; held && cur.HolderID == holderID {
		delete(h.leases, integrationID)
	}
	return nil
}

func (h *PasswordHistory) BeginPasswordChange(ctx context.Context, c credit.PasswordChange) error {
	if err := h.begin("BeginPasswordChange"); err != nil {
		return err
	}
	defer h.mu.Unlock()
	if cur, held := h.leases[c.IntegrationID]; !held || cur.HolderID != c.ID || !h.now().Before(cur.Until) {
		return credit.ErrPasswordChangeInProgress(cur.Kind)
	}
	for _, old := range h.changes[c.IntegrationID] {
		if old.ID == c.ID {
			return credit.Internal(errors.New("change id already recorded"), "memory passwords: begin %s", c.ID)
		}
	}
	c.Outcome, c.FinishedAt, c.ErrorCode, c.Recovered = credit.PasswordChangeRunning, time.Time{}, "", false
	h.changes[c.IntegrationID] = append(h.changes[c.IntegrationID], c)
	key := hashKey(c.IntegrationID, c.Kind)
	if h.hashes[key] == nil {
		h.hashes[key] = map[string]passwordHash{}
	}
	h.seq++
	h.hashes[key][c.ID] = passwordHash{seq: h.seq, hash: c.ReplacedHash}
	return nil
}

func (h *PasswordHistory) FinishPasswordChange(ctx context.Context, c credit.PasswordChange) error {
	if err := h.begin("FinishPasswordChange"); err != nil {
		return err
	}
	defer h.mu.Unlock()
	list := h.changes[c.IntegrationID]
	k := slices.IndexFunc(list, func(old credit.PasswordChange) bool { return old.ID == c.ID })
	if k < 0 {
		return credit.Internal(errors.New("no such change"), "memory passwords: finish %s", c.ID)
	}
	if list[k].Outcome != credit.PasswordChangeRunning {
		return nil
	}
	list[k].Outcome, list[k].FinishedAt, list[k].ErrorCode, list[k].Recovered = c.Outcome, c.FinishedAt, c.ErrorCode, c.Recovered
	if c.Outcome != credit.PasswordChanged {
		delete(h.hashes[hashKey(c.IntegrationID, list[k].Kind)], c.ID)
	}
	return nil
}

func (h *PasswordHistory) OpenPasswordChanges(ctx context.Context, integrationID string) ([]credit.PasswordChange, error) {
	if err := h.begin("OpenPasswordChanges"); err != nil {
		return nil, err
	}
	defer h.mu.Unlock()
	var open []credit.PasswordChange
	for _, c := range h.changes[integrationID] {
		if c.Outcome == credit.PasswordChangeRunning {
			open = append(open, c)
		}
	}
	slices.SortStableFunc(open, func(a, b credit.PasswordChange) int { return a.StartedAt.Compare(b.StartedAt) })
	return open, nil
}

func (h *PasswordHistory) PasswordHashes(ctx context.Context, integrationID string, kind credit.CredentialKind) ([]string, error) {
	if err := h.begin("PasswordHashes"); err != nil {
		return nil, err
	}
	defer h.mu.Unlock()
	entries := make([]passwordHash, 0, len(h.hashes[hashKey(integrationID, kind)]))
	for _, e := range h.hashes[hashKey(integrationID, kind)] {
		entries = append(entries, e)
	}
	slices.SortFunc(entries, func(a, b passwordHash) int { return cmp.Compare(a.seq, b.seq) })
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = e.hash
	}
	return out, nil
}

func (h *PasswordHistory) ListPasswordChanges(ctx context.Context, integrationID string, p credit.Page) ([]credit.PasswordChange, string, error) {
	if err := h.begin("ListPasswordChanges"); err != nil {
		return nil, "", err
	}
	defer h.mu.Unlock()
	p = p.Normalized()
	all := slices.Clone(h.changes[integrationID])
	// Newest first; the ID breaks ties, as in the DynamoDB sort key.
	slices.SortFunc(all, func(a, b credit.PasswordChange) int {
		if c := b.StartedAt.Compare(a.StartedAt); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
	start := 0
	if p.Cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(p.Cursor)
		n, err2 := strconv.Atoi(string(b))
		if err != nil || err2 != nil || n <= 0 || n > len(all) {
			return nil, "", credit.ErrInvalidCursor
		}
		start = n
	}
	end := min(start+p.Limit, len(all))
	out := all[start:end]
	for i := range out {
		out[i].ReplacedHash = ""
	}
	next := ""
	if end < len(all) {
		next = base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(end)))
	}
	return out, next, nil
}
