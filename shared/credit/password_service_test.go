package credit_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"creditanalysis/shared/credit"
	"creditanalysis/shared/credit/credittest"
	"creditanalysis/shared/memory"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// accountBureau is a hand-written bureau holding one account's two
// passwords: it changes them as the bureau does (with the current one) and
// answers the credential check from them. Hooks fail a call before it takes
// effect, or after (a lost answer); a hook may block to order a test's steps.
type accountBureau struct {
	mu           sync.Mutex
	consultation string
	pefin        string
	changes      int
	checks       int
	checked      credit.BureauAccount
	beforeChange func(kind credit.CredentialKind) error
	afterChange  func(kind credit.CredentialKind) error
	check        func() error
	// onCall, when set, runs with the call's context at "change" (before
	// the change is made), "changed" (after) and "check".
	onCall func(ctx context.Context, step string) error
}

func (b *accountBureau) step(ctx context.Context, step string) error {
	if b.onCall == nil {
		return nil
	}
	return b.onCall(ctx, step)
}

func (b *accountBureau) change(ctx context.Context, acct credit.BureauAccount, kind credit.CredentialKind, next string) error {
	if err := b.step(ctx, "change"); err != nil {
		return err
	}
	if b.beforeChange != nil {
		if err := b.beforeChange(kind); err != nil {
			return err
		}
	}
	b.mu.Lock()
	held, given := &b.consultation, acct.Credentials.ConsultationPassword
	if kind == credit.CredentialPEFIN {
		held, given = &b.pefin, acct.Credentials.PEFINPassword
	}
	if given != *held {
		b.mu.Unlock()
		return credit.BureauBadCredentials(kind)
	}
	*held = next
	b.changes++
	b.mu.Unlock()
	if err := b.step(ctx, "changed"); err != nil {
		return err
	}
	if b.afterChange != nil {
		return b.afterChange(kind)
	}
	return nil
}

func (b *accountBureau) ChangeConsultationPassword(ctx context.Context, acct credit.BureauAccount, next string) error {
	return b.change(ctx, acct, credit.CredentialConsultation, next)
}

func (b *accountBureau) ChangePEFINPassword(ctx context.Context, acct credit.BureauAccount, next string) error {
	return b.change(ctx, acct, credit.CredentialPEFIN, next)
}

func (b *accountBureau) CheckCredentials(ctx context.Context, acct credit.BureauAccount) (credit.CredentialCheck, error) {
	if err := b.step(ctx, "check"); err != nil {
		return credit.CredentialCheck{}, err
	}
	b.mu.Lock()
	b.checked = acct
	b.mu.Unlock()
	if b.check != nil {
		if err := b.check(); err != nil {
			return credit.CredentialCheck{}, err
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.checks++
	return credit.CredentialCheck{
		Consultation: acct.Credentials.ConsultationPassword == b.consultation,
		PEFIN:        acct.Credentials.PEFINPassword == b.pefin,
	}, nil
}

// lastChecked is the account of the last credential check.
func (b *accountBureau) lastChecked() credit.BureauAccount {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.checked
}

func (b *accountBureau) holds() (consultation, pefin string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.consultation, b.pefin
}

func (b *accountBureau) set(kind credit.CredentialKind, password string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if kind == credit.CredentialPEFIN {
		b.pefin = password
	} else {
		b.consultation = password
	}
}

func (b *accountBureau) changeCount() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.changes
}

// lockedBuffer is a log sink shared by goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

const (
	initialConsultation = "Abcd@123"
	initialPEFIN        = "135790"
)

var admin = credit.Actor{Subject: "admin-7", Name: "Ana Admin", Roles: []credit.Role{credit.RoleAdmin}}

// passwordFixture is a PasswordService over the in-memory stores and an
// accountBureau, with one integration whose passwords the bureau holds.
type passwordFixture struct {
	svc          *credit.PasswordService
	integrations *credit.IntegrationService
	// access reaches the bureau as every area does, with the password
	// service's recovery.
	access        *credit.BureauAccess
	consultations *consultBureau
	secrets       *memory.Secrets
	history       *memory.PasswordHistory
	bureau        *accountBureau
	integration   credit.Integration
	logs          *lockedBuffer
	passwords     passwordSource
}

func newPasswordFixture(t *testing.T) *passwordFixture {
	t.Helper()
	store, secrets, history := memory.New(), memory.NewSecrets(), memory.NewPasswordHistory()
	bureau := &accountBureau{consultation: initialConsultation, pefin: initialPEFIN}
	logs := &lockedBuffer{}
	// No time in the log lines and no digits in the IDs: a password found in
	// the log is then surely a leak, never a coincidence.
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug, ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey && len(groups) == 0 {
			return slog.Attr{}
		}
		return a
	}}))
	newID := letterIDs()
	svc := &credit.PasswordService{
		Integrations: store, Store: history, Secrets: secrets, Bureau: bureau,
		Hasher: cheapHasher, Pepper: memory.Pepper(testPepper), NewID: newID, Log: log,
	}
	// The consultations check the password they are given as the bureau's
	// account does.
	consultations := &consultBureau{consult: func(ctx context.Context, acct credit.BureauAccount, _ credit.ConsultQuery) (credit.Report, error) {
		check, err := bureau.CheckCredentials(ctx, acct)
		if err != nil {
			return credit.Report{}, err
		}
		if !check.Consultation {
			return credit.Report{}, credit.BureauBadCredentials(credit.CredentialConsultation)
		}
		return credittest.FullReport(), nil
	}}
	access := &credit.BureauAccess{Secrets: secrets, Consultation: consultations, Accounts: bureau, Recovery: svc, Log: log}
	integrations := &credit.IntegrationService{Store: store, Secrets: secrets, Bureau: access, NewID: newID, Log: log}
	i, err := integrations.Create(credit.WithActor(context.Background(), admin), validNewIntegration("branch-1"))
	require.NoError(t, err)
	f := &passwordFixture{
		svc:           svc,
		access:        access,
		consultations: consultations,
		integrations:  integrations, secrets: secrets, history: history, bureau: bureau, integration: i, logs: logs,
	}
	f.passwords.used = []string{initialConsultation, initialPEFIN}
	t.Cleanup(func() { f.requireNoPasswordInLogs(t) })
	return f
}

// passwordSource hands out valid passwords never used before, and
// remembers them so that the logs can be searched for them.
type passwordSource struct {
	mu   sync.Mutex
	n    int
	used []string
}

func (p *passwordSource) next(kind credit.CredentialKind) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		p.n++
		var pw string
		if kind == credit.CredentialPEFIN {
			pw = fmt.Sprintf("%06d", (p.n*7919+24680)%1_000_000)
		} else {
			pw = fmt.Sprintf("Xy#%05d", p.n*37%100_000)
		}
		if len(credit.PasswordViolations(kind, pw)) == 0 && pw != initialPEFIN {
			p.used = append(p.used, pw)
			return pw
		}
	}
}

func (f *passwordFixture) ctx() context.Context {
	return credit.WithActor(context.Background(), admin)
}

func (f *passwordFixture) change(kind credit.CredentialKind, password string) error {
	return f.svc.Change(f.ctx(), credit.PasswordChangeRequest{
		IntegrationID: f.integration.ID, Kind: kind, NewPassword: password, Confirmation: password, RequestID: "req-" + f.svc.NewID(),
	})
}

func (f *passwordFixture) current(t *testing.T) credit.IntegrationSecrets {
	t.Helper()
	s, err := f.secrets.Reload(context.Background(), f.integration.SecretRef)
	require.NoError(t, err)
	return s
}

func (f *passwordFixture) pending(t *testing.T) bool {
	t.Helper()
	_, _, ok, err := f.secrets.Pending(context.Background(), f.integration.SecretRef)
	require.NoError(t, err)
	return ok
}

func (f *passwordFixture) history_(t *testing.T) []credit.PasswordChange {
	t.Helper()
	changes, _, err := f.svc.History(f.ctx(), f.integration.ID, credit.Page{Limit: credit.MaxPageLimit})
	require.NoError(t, err)
	return changes
}

// requireConsistent asserts that the secret store and the bureau agree:
// nothing pending, and the connection test passes with what is stored.
func (f *passwordFixture) requireConsistent(t *testing.T) {
	t.Helper()
	assert.False(t, f.pending(t), "no pending version is left behind")
	cur := f.current(t)
	c, p := f.bureau.holds()
	assert.Equal(t, c, cur.ConsultationPassword, "the bureau and the secret store agree on the consultation password")
	assert.Equal(t, p, cur.PEFINPassword, "the bureau and the secret store agree on the PEFIN password")
	test, err := f.integrations.TestConnection(f.ctx(), f.integration.ID)
	require.NoError(t, err)
	assert.True(t, test.OK, "connection test: %+v", test)
}

// requireNewChangeWorks asserts that a later change of each password goes
// through.
func (f *passwordFixture) requireNewChangeWorks(t *testing.T) {
	t.Helper()
	for _, kind := range []credit.CredentialKind{credit.CredentialConsultation, credit.CredentialPEFIN} {
		pw := f.passwords.next(kind)
		require.NoError(t, f.change(kind, pw), "a new %s change", kind)
		got := f.current(t)
		assert.Equal(t, pw, passwordOf(got, kind))
	}
	f.requireConsistent(t)
}

func (f *passwordFixture) requireNoPasswordInLogs(t *testing.T) {
	t.Helper()
	logs := f.logs.String()
	for _, pw := range f.passwords.used {
		if pw == "" {
			continue
		}
		assert.NotContains(t, logs, pw, "a password reached the log")
	}
	assert.NotContains(t, logs, "$argon2id$", "a hash reached the log")
}

// passwordOf reads the password of kind in s.
func passwordOf(s credit.IntegrationSecrets, kind credit.CredentialKind) string {
	if kind == credit.CredentialPEFIN {
		return s.PEFINPassword
	}
	return s.ConsultationPassword
}

// withPasswordFor returns s with the password of kind replaced.
func withPasswordFor(s credit.IntegrationSecrets, kind credit.CredentialKind, pw string) credit.IntegrationSecrets {
	if kind == credit.CredentialPEFIN {
		s.PEFINPassword = pw
	} else {
		s.ConsultationPassword = pw
	}
	return s
}

// letterIDs hands out identifiers without digits, so that no ID in a log
// line can look like a PEFIN password.
func letterIDs() func() string {
	var mu sync.Mutex
	n := 0
	return func() string {
		mu.Lock()
		defer mu.Unlock()
		n++
		id := ""
		for k := n; k > 0; k /= 26 {
			id = string(rune('a'+k%26)) + id
		}
		return "id-" + id
	}
}

func requireCode(t *testing.T, err error, code string, kind credit.Kind) *credit.Error {
	t.Helper()
	require.Error(t, err)
	assert.Equal(t, code, credit.ErrorCode(err), "%v", err)
	assert.Equal(t, kind, credit.ErrorKind(err))
	e, _ := credit.AsError(err)
	return e
}

func TestPasswordChangeSucceeds(t *testing.T) {
	for _, kind := range []credit.CredentialKind{credit.CredentialConsultation, credit.CredentialPEFIN} {
		t.Run(string(kind), func(t *testing.T) {
			f := newPasswordFixture(t)
			before := f.current(t)
			pw := f.passwords.next(kind)
			require.NoError(t, f.change(kind, pw))

			after := f.current(t)
			want := before
			if kind == credit.CredentialPEFIN {
				want.PEFINPassword = pw
			} else {
				want.ConsultationPassword = pw
			}
			assert.Equal(t, want, after, "only the changed password differs")
			f.requireConsistent(t)

			changes := f.history_(t)
			require.Len(t, changes, 1)
			c := changes[0]
			assert.Equal(t, kind, c.Kind)
			assert.Equal(t, credit.PasswordChanged, c.Outcome)
			assert.Equal(t, admin.Subject, c.Actor.Subject)
			assert.Equal(t, admin.Name, c.Actor.Name)
			assert.NotEmpty(t, c.RequestID)
			assert.False(t, c.StartedAt.IsZero())
			assert.False(t, c.FinishedAt.Before(c.StartedAt))
			assert.False(t, c.Recovered)
			assert.Empty(t, c.ReplacedHash, "history never carries a hash")

			hashes, err := f.history.PasswordHashes(context.Background(), f.integration.ID, kind)
			require.NoError(t, err)
			require.Len(t, hashes, 1)
			old := before.ConsultationPassword
			if kind == credit.CredentialPEFIN {
				old = before.PEFINPassword
			}
			assert.NotContains(t, hashes[0], old)
			ok, err := credit.VerifyPasswordHash(hashes[0], testPepper, old)
			require.NoError(t, err)
			assert.True(t, ok, "the replaced password is kept as a hash")
			assert.True(t, credit.HashNeedsPepper(hashes[0]), "keyed with the pepper")
			assert.Contains(t, f.logs.String(), `"audit":"password_change"`, "the change is an audit event")
		})
	}
}

// TestPasswordHistoryFromBeforeThePepper: a history kept before the pepper
// keeps refusing its passwords, and every hash made since is peppered.
func TestPasswordHistoryFromBeforeThePepper(t *testing.T) {
	f := newPasswordFixture(t)
	ctx := context.Background()
	const old = "Wxyz@987"
	c := credit.PasswordChange{ID: f.svc.NewID(), IntegrationID: f.integration.ID, Kind: credit.CredentialConsultation, Actor: admin,
		StartedAt: f.svc.Now.Now(), Outcome: credit.PasswordChangeRunning, ReplacedHash: legacyHash(old)}
	require.NoError(t, f.history.AcquirePasswordLease(ctx, credit.PasswordLease{IntegrationID: c.IntegrationID, HolderID: c.ID, Kind: c.Kind, Until: time.Now().Add(time.Minute)}))
	require.NoError(t, f.history.BeginPasswordChange(ctx, c))
	c.Outcome, c.FinishedAt = credit.PasswordChanged, f.svc.Now.Now()
	require.NoError(t, f.history.FinishPasswordChange(ctx, c))
	require.NoError(t, f.history.ReleasePasswordLease(ctx, c.IntegrationID, c.ID))

	requireCode(t, f.change(credit.CredentialConsultation, old), credit.CodePasswordReused, credit.KindConflict)

	next := f.passwords.next(credit.CredentialConsultation)
	require.NoError(t, f.change(credit.CredentialConsultation, next))
	hashes, err := f.history.PasswordHashes(ctx, f.integration.ID, credit.CredentialConsultation)
	require.NoError(t, err)
	require.Len(t, hashes, 2)
	peppered := 0
	for _, h := range hashes {
		if credit.HashNeedsPepper(h) {
			peppered++
		}
	}
	assert.Equal(t, 1, peppered, "the old hash stays as it was, the new one is peppered")
}

func TestPasswordChangeRefusedBeforeAnything(t *testing.T) {
	tests := []struct {
		name         string
		kind         credit.CredentialKind
		password     string
		confirmation string
		code         string
		violations   []string
	}{
		{"consultation too short", credit.CredentialConsultation, "Ab@1", "Ab@1", credit.CodePasswordPolicy, []string{"length"}},
		{"consultation without special", credit.CredentialConsultation, "Abcd1234", "Abcd1234", credit.CodePasswordPolicy, []string{"special"}},
		{"consultation with Cyrillic", credit.CredentialConsultation, "A\u0430cd@123", "A\u0430cd@123", credit.CodePasswordPolicy, []string{"invalid_character"}},
		{"pefin with a run", credit.CredentialPEFIN, "123579", "123579", credit.CodePasswordPolicy, []string{"sequential_digits"}},
		{"pefin with full-width digits", credit.CredentialPEFIN, "１３５７９０", "１３５７９０", credit.CodePasswordPolicy, []string{"digits_only"}},
		{"pefin empty", credit.CredentialPEFIN, "", "", credit.CodePasswordPolicy, []string{"length"}},
		{"confirmation differs", credit.CredentialConsultation, "Wxyz@789", "Wxyz@788", credit.CodePasswordConfirmationMismatch, nil},
		{"confirmation differs in case", credit.CredentialConsultation, "Wxyz@789", "wxyz@789", credit.CodePasswordConfirmationMismatch, nil},
		{"confirmation with trailing space", credit.CredentialPEFIN, "246802", "246802 ", credit.CodePasswordConfirmationMismatch, nil},
		{"rule checked before the confirmation", credit.CredentialPEFIN, "123456", "654321", credit.CodePasswordPolicy, []string{"sequential_digits"}},
		{"unknown kind", credit.CredentialKind("web"), "Wxyz@789", "Wxyz@789", credit.CodeValidation, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newPasswordFixture(t)
			f.passwords.used = append(f.passwords.used, tt.password)
			err := f.svc.Change(f.ctx(), credit.PasswordChangeRequest{IntegrationID: f.integration.ID, Kind: tt.kind, NewPassword: tt.password, Confirmation: tt.confirmation})
			e := requireCode(t, err, tt.code, credit.KindInvalid)
			if tt.violations != nil {
				assert.Equal(t, tt.violations, e.Details["violations"])
			}
			if tt.password != "" {
				assert.NotContains(t, err.Error(), tt.password)
			}
			assert.Zero(t, f.bureau.changeCount(), "nothing reached the bureau")
			assert.Empty(t, f.history_(t), "nothing was recorded")
			f.requireConsistent(t)
			f.requireNewChangeWorks(t)
		})
	}
}

func TestPasswordChangeUnknownIntegration(t *testing.T) {
	f := newPasswordFixture(t)
	err := f.svc.Change(f.ctx(), credit.PasswordChangeRequest{IntegrationID: "missing", Kind: credit.CredentialPEFIN, NewPassword: "246802", Confirmation: "246802"})
	requireCode(t, err, credit.CodeNotFound, credit.KindNotFound)
	_, _, err = f.svc.History(f.ctx(), "missing", credit.Page{})
	requireCode(t, err, credit.CodeNotFound, credit.KindNotFound)
	_, err = f.svc.Recover(f.ctx(), "missing")
	requireCode(t, err, credit.CodeNotFound, credit.KindNotFound)
}

func TestPasswordNeverReused(t *testing.T) {
	f := newPasswordFixture(t)
	c1 := f.passwords.next(credit.CredentialConsultation)
	c2 := f.passwords.next(credit.CredentialConsultation)
	require.NoError(t, f.change(credit.CredentialConsultation, c1))
	require.NoError(t, f.change(credit.CredentialConsultation, c2))

	for name, pw := range map[string]string{"the first one": initialConsultation, "an earlier one": c1, "the current one": c2} {
		t.Run(name, func(t *testing.T) {
			changes := f.bureau.changeCount()
			requireCode(t, f.change(credit.CredentialConsultation, pw), credit.CodePasswordReused, credit.KindConflict)
			assert.Equal(t, changes, f.bureau.changeCount(), "nothing reached the bureau")
			assert.Equal(t, c2, f.current(t).ConsultationPassword)
		})
	}
	t.Run("the kinds keep apart histories", func(t *testing.T) {
		requireCode(t, f.change(credit.CredentialPEFIN, initialPEFIN), credit.CodePasswordReused, credit.KindConflict)
		require.NoError(t, f.change(credit.CredentialPEFIN, "802468"))
	})
	t.Run("a refused change leaves the lease free", func(t *testing.T) {
		f.requireConsistent(t)
		f.requireNewChangeWorks(t)
	})
	t.Run("a password the bureau refused was never used", func(t *testing.T) {
		pw := f.passwords.next(credit.CredentialConsultation)
		f.bureau.beforeChange = func(credit.CredentialKind) error { return credit.BureauRejected("Serviço em manutenção.") }
		requireCode(t, f.change(credit.CredentialConsultation, pw), credit.CodeBureauRejected, credit.KindUnprocessable)
		f.bureau.beforeChange = nil
		require.NoError(t, f.change(credit.CredentialConsultation, pw))
	})
}

// TestPasswordChangeFailures injects a failure at each step of the protocol
// and checks what the caller gets, where both passwords end up, and that
// afterwards the connection test passes and a new change works.
func TestPasswordChangeFailures(t *testing.T) {
	down := errors.New("injected: service down")
	tests := []struct {
		name   string
		inject func(f *passwordFixture)
		// code is the error expected; "" means the change succeeds.
		code string
		kind credit.Kind
		// changed says whether the new password ends up in force.
		changed bool
		outcome credit.PasswordChangeOutcome
		// afterward runs once the injected failures are gone.
		afterward func(t *testing.T, f *passwordFixture)
	}{
		{
			name: "secret store write fails (pending version)",
			inject: func(f *passwordFixture) {
				f.secrets.Inject(failOnce("PutPending", down))
			},
			code: credit.CodeInternal, kind: credit.KindInternal, outcome: credit.PasswordChangeFailed,
		},
		{
			name: "bureau down (5xx) before applying",
			inject: func(f *passwordFixture) {
				f.bureau.beforeChange = func(credit.CredentialKind) error { return credit.BureauUnavailable(errors.New("503")) }
			},
			code: credit.CodeBureauUnavailable, kind: credit.KindBadGateway, outcome: credit.PasswordChangeFailed,
		},
		{
			name: "bureau rejects the password",
			inject: func(f *passwordFixture) {
				f.bureau.beforeChange = func(credit.CredentialKind) error {
					return credit.BureauRejected("A nova senha deve ser diferente de qualquer senha utilizada anteriormente.")
				}
			},
			code: credit.CodeBureauRejected, kind: credit.KindUnprocessable, outcome: credit.PasswordChangeRejected,
		},
		{
			name: "bureau applies the change, its answer is lost (timeout)",
			inject: func(f *passwordFixture) {
				f.bureau.afterChange = func(credit.CredentialKind) error { return credit.BureauTimeout(context.DeadlineExceeded) }
			},
			changed: true, outcome: credit.PasswordChanged,
		},
		{
			name: "bureau applies the change, its answer is malformed",
			inject: func(f *passwordFixture) {
				f.bureau.afterChange = func(credit.CredentialKind) error { return credit.BureauMalformedAnswer(errors.New("truncated")) }
			},
			changed: true, outcome: credit.PasswordChanged,
		},
		{
			name: "bureau times out without applying",
			inject: func(f *passwordFixture) {
				f.bureau.beforeChange = func(credit.CredentialKind) error { return credit.BureauTimeout(context.DeadlineExceeded) }
			},
			code: credit.CodeBureauUnavailable, kind: credit.KindBadGateway, outcome: credit.PasswordChangeFailed,
		},
		{
			name: "promotion fails once",
			inject: func(f *passwordFixture) {
				f.secrets.Inject(failOnce("Promote", down))
			},
			changed: true, outcome: credit.PasswordChanged,
		},
		{
			name: "history write fails before the change (begin)",
			inject: func(f *passwordFixture) {
				f.history.Inject(failOnce("BeginPasswordChange", down))
			},
			code: credit.CodeInternal, kind: credit.KindInternal,
		},
		{
			name: "history write fails after the change (finish)",
			inject: func(f *passwordFixture) {
				f.history.Inject(failOnce("FinishPasswordChange", down))
			},
			changed: true, outcome: credit.PasswordChangeRunning,
		},
		{
			name: "reading the history of hashes fails",
			inject: func(f *passwordFixture) {
				f.history.Inject(failOnce("PasswordHashes", down))
			},
			code: credit.CodeInternal, kind: credit.KindInternal,
		},
		{
			name: "the lease cannot be taken",
			inject: func(f *passwordFixture) {
				f.history.Inject(failOnce("AcquirePasswordLease", down))
			},
			code: credit.CodeInternal, kind: credit.KindInternal,
		},
		{
			name: "the lease cannot be released",
			inject: func(f *passwordFixture) {
				f.history.Inject(failOnce("ReleasePasswordLease", down))
			},
			changed: true, outcome: credit.PasswordChanged,
			afterward: func(t *testing.T, f *passwordFixture) {
				err := f.change(credit.CredentialConsultation, f.passwords.next(credit.CredentialConsultation))
				requireCode(t, err, credit.CodePasswordChangeInProgress, credit.KindConflict)
				// The lease runs out by itself.
				later := func() time.Time { return time.Now().Add(credit.DefaultPasswordLease + time.Minute) }
				f.history.Now, f.svc.Now = later, later
			},
		},
	}
	for _, kind := range []credit.CredentialKind{credit.CredentialConsultation, credit.CredentialPEFIN} {
		for _, tt := range tests {
			t.Run(string(kind)+"/"+tt.name, func(t *testing.T) {
				f := newPasswordFixture(t)
				before := f.current(t)
				pw := f.passwords.next(kind)
				tt.inject(f)

				err := f.change(kind, pw)
				if tt.code == "" {
					require.NoError(t, err)
				} else {
					e := requireCode(t, err, tt.code, tt.kind)
					assert.NotContains(t, err.Error(), pw)
					if tt.code == credit.CodeBureauRejected {
						assert.Contains(t, e.Message, "diferente de qualquer senha")
					}
				}
				f.bureau.beforeChange, f.bureau.afterChange = nil, nil
				f.secrets.Inject(nil)
				f.history.Inject(nil)
				if tt.afterward != nil {
					tt.afterward(t, f)
				}

				want := before
				if tt.changed {
					want = withPasswordFor(want, kind, pw)
				}
				assert.Equal(t, want, f.current(t))
				f.requireConsistent(t)
				if tt.outcome != "" {
					changes := f.history_(t)
					require.Len(t, changes, 1)
					assert.Equal(t, tt.outcome, changes[0].Outcome)
					if tt.code != "" && tt.code != credit.CodeInternal {
						assert.Equal(t, tt.code, changes[0].ErrorCode)
					}
				}
				f.requireNewChangeWorks(t)
				if tt.outcome == credit.PasswordChangeRunning {
					// The next change closed the record the failed write left open.
					changes := f.history_(t)
					last := changes[len(changes)-1]
					assert.Equal(t, credit.PasswordChanged, last.Outcome)
					assert.True(t, last.Recovered)
				}
			})
		}
	}
}

// failOnce fails the first call of op.
func failOnce(op string, err error) func(string) error {
	var once sync.Once
	return func(got string) error {
		if got != op {
			return nil
		}
		var fail error
		once.Do(func() { fail = err })
		return fail
	}
}

// failAlways fails every call of op.
func failAlways(op string, err error) func(string) error {
	return func(got string) error {
		if got == op {
			return err
		}
		return nil
	}
}

// TestPasswordChangeLeftForRecovery covers a change that cannot be settled
// at once: the pending version keeps the new password until a reader (or the
// next change) recovers it.
func TestPasswordChangeLeftForRecovery(t *testing.T) {
	down := errors.New("injected: down")

	t.Run("promotion keeps failing: incomplete, then recovered by a reader", func(t *testing.T) {
		f := newPasswordFixture(t)
		pw := f.passwords.next(credit.CredentialConsultation)
		f.secrets.Inject(failAlways("Promote", down))
		requireCode(t, f.change(credit.CredentialConsultation, pw), credit.CodePasswordChangeIncomplete, credit.KindUnavailable)
		assert.True(t, f.pending(t), "the pending version keeps the new password")
		c, _ := f.bureau.holds()
		assert.Equal(t, pw, c, "the bureau took it")
		test, err := f.integrations.TestConnection(f.ctx(), f.integration.ID)
		require.NoError(t, err)
		assert.False(t, test.OK, "until recovery the stored password is refused")

		_, err = f.svc.Recover(f.ctx(), f.integration.ID)
		requireCode(t, err, credit.CodePasswordChangeIncomplete, credit.KindUnavailable)

		f.secrets.Inject(nil)
		rec, err := f.svc.Recover(f.ctx(), f.integration.ID)
		require.NoError(t, err)
		assert.Equal(t, credit.RecoveryCompleted, rec.Outcome)
		require.Len(t, rec.Closed, 1)
		assert.Equal(t, credit.PasswordChanged, rec.Closed[0].Outcome)
		assert.True(t, rec.Closed[0].Recovered)
		assert.Empty(t, rec.Closed[0].ReplacedHash)
		assert.Equal(t, pw, f.current(t).ConsultationPassword)
		f.requireConsistent(t)
		f.requireNewChangeWorks(t)
	})

	t.Run("answer lost and the bureau cannot be asked: unknown, then recovered", func(t *testing.T) {
		f := newPasswordFixture(t)
		pw := f.passwords.next(credit.CredentialPEFIN)
		f.bureau.afterChange = func(credit.CredentialKind) error { return credit.BureauTimeout(context.DeadlineExceeded) }
		f.bureau.check = func() error { return credit.BureauUnavailable(down) }
		requireCode(t, f.change(credit.CredentialPEFIN, pw), credit.CodeBureauUnavailable, credit.KindBadGateway)
		f.bureau.afterChange = nil
		assert.True(t, f.pending(t))
		assert.Equal(t, initialPEFIN, f.current(t).PEFINPassword)
		changes := f.history_(t)
		require.Len(t, changes, 1)
		assert.Equal(t, credit.PasswordChangeRunning, changes[0].Outcome, "the outcome is unknown for now")

		_, err := f.svc.Recover(f.ctx(), f.integration.ID)
		requireCode(t, err, credit.CodeBureauUnavailable, credit.KindBadGateway)
		err = f.change(credit.CredentialPEFIN, f.passwords.next(credit.CredentialPEFIN))
		requireCode(t, err, credit.CodeBureauUnavailable, credit.KindBadGateway)
		assert.Equal(t, 1, f.bureau.changeCount(), "no change starts while one is unsettled")

		f.bureau.check = nil
		rec, err := f.svc.Recover(f.ctx(), f.integration.ID)
		require.NoError(t, err)
		assert.Equal(t, credit.RecoveryCompleted, rec.Outcome)
		assert.Equal(t, pw, f.current(t).PEFINPassword)
		changes = f.history_(t)
		require.Len(t, changes, 1)
		assert.Equal(t, credit.PasswordChanged, changes[0].Outcome)
		assert.True(t, changes[0].Recovered)
		f.requireConsistent(t)
		f.requireNewChangeWorks(t)
	})

	t.Run("a retry with the same password finishes the change and succeeds", func(t *testing.T) {
		f := newPasswordFixture(t)
		pw := f.passwords.next(credit.CredentialConsultation)
		f.bureau.afterChange = func(credit.CredentialKind) error { return credit.BureauTimeout(context.DeadlineExceeded) }
		f.bureau.check = func() error { return credit.BureauUnavailable(down) }
		requireCode(t, f.change(credit.CredentialConsultation, pw), credit.CodeBureauUnavailable, credit.KindBadGateway)
		f.bureau.afterChange, f.bureau.check = nil, nil

		require.NoError(t, f.change(credit.CredentialConsultation, pw), "the retry finds the change done")
		assert.Equal(t, 1, f.bureau.changeCount(), "the bureau was not asked twice")
		assert.Equal(t, pw, f.current(t).ConsultationPassword)
		f.requireConsistent(t)
		require.Len(t, f.history_(t), 1)
		f.requireNewChangeWorks(t)
	})

	t.Run("a change of the other password finished by recovery is no excuse for a reused one", func(t *testing.T) {
		f := newPasswordFixture(t)
		pw := f.passwords.next(credit.CredentialPEFIN)
		f.bureau.afterChange = func(credit.CredentialKind) error { return credit.BureauTimeout(context.DeadlineExceeded) }
		f.bureau.check = func() error { return credit.BureauUnavailable(down) }
		requireCode(t, f.change(credit.CredentialPEFIN, pw), credit.CodeBureauUnavailable, credit.KindBadGateway)
		f.bureau.afterChange, f.bureau.check = nil, nil

		requireCode(t, f.change(credit.CredentialConsultation, initialConsultation), credit.CodePasswordReused, credit.KindConflict)
		assert.Equal(t, pw, f.current(t).PEFINPassword, "the PEFIN change was finished meanwhile")
		f.requireConsistent(t)
	})

	t.Run("bureau down and the change did not apply: a retry rolls it back and goes on", func(t *testing.T) {
		f := newPasswordFixture(t)
		pw := f.passwords.next(credit.CredentialConsultation)
		f.bureau.beforeChange = func(credit.CredentialKind) error { return credit.BureauUnavailable(down) }
		f.bureau.check = func() error { return credit.BureauUnavailable(down) }
		requireCode(t, f.change(credit.CredentialConsultation, pw), credit.CodeBureauUnavailable, credit.KindBadGateway)
		assert.True(t, f.pending(t))
		f.bureau.beforeChange, f.bureau.check = nil, nil

		require.NoError(t, f.change(credit.CredentialConsultation, pw))
		assert.Equal(t, pw, f.current(t).ConsultationPassword)
		changes := f.history_(t)
		require.Len(t, changes, 2)
		assert.Equal(t, credit.PasswordChanged, changes[0].Outcome)
		assert.Equal(t, credit.PasswordChangeFailed, changes[1].Outcome)
		assert.Equal(t, credit.ErrorCodeInterrupted, changes[1].ErrorCode)
		assert.True(t, changes[1].Recovered)
		f.requireConsistent(t)
	})
}

// TestPasswordChangeAfterACrash builds the state a request that died between
// steps leaves behind (its lease expired) and checks that the next change
// settles it first.
func TestPasswordChangeAfterACrash(t *testing.T) {
	tests := []struct {
		name string
		// reached says how far the dead request got.
		putPending, bureauChanged bool
		want                      credit.PasswordChangeOutcome
		// legacy: the dead request hashed before the pepper.
		legacy bool
	}{
		{"died after recording the start", false, false, credit.PasswordChangeFailed, false},
		{"died after the pending version", true, false, credit.PasswordChangeFailed, false},
		{"died after the bureau took the password", true, true, credit.PasswordChanged, false},
		{"died before the pepper, after the pending version", true, false, credit.PasswordChangeFailed, true},
		{"died before the pepper, after the bureau took the password", true, true, credit.PasswordChanged, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newPasswordFixture(t)
			ctx := context.Background()
			dead := f.passwords.next(credit.CredentialConsultation)
			cur := f.current(t)
			hash, err := cheapHasher.Hash(testPepper, cur.ConsultationPassword)
			require.NoError(t, err)
			if tt.legacy {
				hash = legacyHash(cur.ConsultationPassword)
			}
			c := credit.PasswordChange{ID: f.svc.NewID(), IntegrationID: f.integration.ID, Kind: credit.CredentialConsultation, Actor: admin, StartedAt: f.svc.Now.Now(), Outcome: credit.PasswordChangeRunning, ReplacedHash: hash}
			lease := credit.PasswordLease{IntegrationID: f.integration.ID, HolderID: c.ID, Kind: c.Kind, Until: time.Now().Add(time.Minute)}
			require.NoError(t, f.history.AcquirePasswordLease(ctx, lease))
			require.NoError(t, f.history.BeginPasswordChange(ctx, c))
			if tt.putPending {
				_, err := f.secrets.PutPending(ctx, f.integration.SecretRef, withPasswordFor(cur, c.Kind, dead), c.ID)
				require.NoError(t, err)
			}
			if tt.bureauChanged {
				f.bureau.set(c.Kind, dead)
			}

			next := f.passwords.next(credit.CredentialConsultation)
			requireCode(t, f.change(credit.CredentialConsultation, next), credit.CodePasswordChangeInProgress, credit.KindConflict)

			// The dead request's lease runs out.
			lease.Until = time.Now().Add(-time.Second)
			require.NoError(t, f.history.AcquirePasswordLease(ctx, lease))

			if tt.want == credit.PasswordChanged {
				// The dead request's retry finds its change done.
				require.NoError(t, f.change(credit.CredentialConsultation, dead))
				assert.Equal(t, dead, f.current(t).ConsultationPassword)
			}
			require.NoError(t, f.change(credit.CredentialConsultation, next))
			assert.Equal(t, next, f.current(t).ConsultationPassword)
			f.requireConsistent(t)

			changes := f.history_(t)
			require.Len(t, changes, 2)
			assert.Equal(t, c.ID, changes[1].ID)
			assert.Equal(t, tt.want, changes[1].Outcome)
			assert.True(t, changes[1].Recovered)
			if tt.want == credit.PasswordChanged {
				requireCode(t, f.change(credit.CredentialConsultation, dead), credit.CodePasswordReused, credit.KindConflict)
			} else {
				require.NoError(t, f.change(credit.CredentialConsultation, dead), "a password the bureau never took was not used")
			}
			f.requireNewChangeWorks(t)
		})
	}
}

func TestPasswordRecovery(t *testing.T) {
	ctx := context.Background()
	// pend stores a pending version as a change in flight would.
	pend := func(t *testing.T, f *passwordFixture, kind credit.CredentialKind, pw string) {
		t.Helper()
		_, err := f.secrets.PutPending(ctx, f.integration.SecretRef, withPasswordFor(f.current(t), kind, pw), f.svc.NewID())
		require.NoError(t, err)
	}

	t.Run("nothing pending", func(t *testing.T) {
		f := newPasswordFixture(t)
		rec, err := f.svc.Recover(f.ctx(), f.integration.ID)
		require.NoError(t, err)
		assert.Equal(t, credit.RecoveryNothingPending, rec.Outcome)
		assert.Empty(t, rec.Closed)
		f.requireConsistent(t)
	})

	t.Run("the bureau holds the current password: rolled back", func(t *testing.T) {
		f := newPasswordFixture(t)
		pw := f.passwords.next(credit.CredentialPEFIN)
		pend(t, f, credit.CredentialPEFIN, pw)
		rec, err := f.svc.Recover(f.ctx(), f.integration.ID)
		require.NoError(t, err)
		assert.Equal(t, credit.RecoveryRolledBack, rec.Outcome)
		assert.Equal(t, initialPEFIN, f.current(t).PEFINPassword)
		f.requireConsistent(t)
	})

	// Both passwords travel in one account: only the one that differs is
	// asked about, so a refusal of the other one changes nothing.
	t.Run("PEFIN change settled by the PEFIN flag alone", func(t *testing.T) {
		f := newPasswordFixture(t)
		pw := f.passwords.next(credit.CredentialPEFIN)
		pend(t, f, credit.CredentialPEFIN, pw)
		f.bureau.set(credit.CredentialPEFIN, pw)
		f.bureau.set(credit.CredentialConsultation, "Elsewh#1")
		rec, err := f.svc.Recover(f.ctx(), f.integration.ID)
		require.NoError(t, err)
		assert.Equal(t, credit.RecoveryCompleted, rec.Outcome)
		assert.Equal(t, pw, f.current(t).PEFINPassword)
		assert.Equal(t, initialConsultation, f.current(t).ConsultationPassword)
	})

	t.Run("consultation change settled by the consultation flag alone", func(t *testing.T) {
		f := newPasswordFixture(t)
		pw := f.passwords.next(credit.CredentialConsultation)
		pend(t, f, credit.CredentialConsultation, pw)
		f.bureau.set(credit.CredentialPEFIN, "975319")
		rec, err := f.svc.Recover(f.ctx(), f.integration.ID)
		require.NoError(t, err)
		assert.Equal(t, credit.RecoveryRolledBack, rec.Outcome)
		assert.Equal(t, initialConsultation, f.current(t).ConsultationPassword)
	})

	t.Run("the bureau accepts neither: unresolved, nothing touched", func(t *testing.T) {
		f := newPasswordFixture(t)
		pw := f.passwords.next(credit.CredentialConsultation)
		pend(t, f, credit.CredentialConsultation, pw)
		f.bureau.set(credit.CredentialConsultation, "Elsewh#1")
		f.passwords.used = append(f.passwords.used, "Elsewh#1")

		_, err := f.svc.Recover(f.ctx(), f.integration.ID)
		e := requireCode(t, err, credit.CodePasswordChangeUnresolved, credit.KindConflict)
		assert.Equal(t, []string{"consultation"}, e.Details["kinds"])
		requireCode(t, f.change(credit.CredentialConsultation, f.passwords.next(credit.CredentialConsultation)), credit.CodePasswordChangeUnresolved, credit.KindConflict)
		assert.True(t, f.pending(t), "the evidence stays")
		assert.Equal(t, initialConsultation, f.current(t).ConsultationPassword)

		// Someone puts the bureau back on the stored password.
		f.bureau.set(credit.CredentialConsultation, initialConsultation)
		rec, err := f.svc.Recover(f.ctx(), f.integration.ID)
		require.NoError(t, err)
		assert.Equal(t, credit.RecoveryRolledBack, rec.Outcome)
		f.requireConsistent(t)
		f.requireNewChangeWorks(t)
	})

	t.Run("a pending version equal to the current one is dropped without asking", func(t *testing.T) {
		f := newPasswordFixture(t)
		_, err := f.secrets.PutPending(ctx, f.integration.SecretRef, f.current(t), f.svc.NewID())
		require.NoError(t, err)
		f.bureau.check = func() error { return errors.New("must not be asked") }
		rec, err := f.svc.Recover(f.ctx(), f.integration.ID)
		require.NoError(t, err)
		assert.Equal(t, credit.RecoveryRolledBack, rec.Outcome)
		f.bureau.check = nil
		f.requireConsistent(t)
	})
}

// TestPasswordChangeOneAtATime holds a change inside the bureau call and
// checks that nothing else touches the integration's credentials meanwhile.
func TestPasswordChangeOneAtATime(t *testing.T) {
	f := newPasswordFixture(t)
	entered, proceed := make(chan struct{}), make(chan struct{})
	var once sync.Once
	f.bureau.beforeChange = func(credit.CredentialKind) error {
		once.Do(func() {
			close(entered)
			<-proceed
		})
		return nil
	}
	first := f.passwords.next(credit.CredentialConsultation)
	done := make(chan error, 1)
	go func() { done <- f.change(credit.CredentialConsultation, first) }()
	<-entered

	e := requireCode(t, f.change(credit.CredentialConsultation, f.passwords.next(credit.CredentialConsultation)), credit.CodePasswordChangeInProgress, credit.KindConflict)
	assert.Equal(t, "consultation", e.Details["kind"])
	e = requireCode(t, f.change(credit.CredentialPEFIN, f.passwords.next(credit.CredentialPEFIN)), credit.CodePasswordChangeInProgress, credit.KindConflict)
	assert.Equal(t, "consultation", e.Details["kind"], "the other kind waits too: both share one secret")
	_, err := f.svc.Recover(f.ctx(), f.integration.ID)
	requireCode(t, err, credit.CodePasswordChangeInProgress, credit.KindConflict)

	close(proceed)
	require.NoError(t, <-done)
	assert.Equal(t, first, f.current(t).ConsultationPassword)
	assert.Equal(t, 1, f.bureau.changeCount())
	f.requireConsistent(t)
	f.requireNewChangeWorks(t)
}

// TestPasswordChangeRace starts many changes of one password at once:
// exactly one goes through, every other one is told a change is in progress.
func TestPasswordChangeRace(t *testing.T) {
	f := newPasswordFixture(t)
	release := make(chan struct{})
	f.bureau.beforeChange = func(credit.CredentialKind) error { <-release; return nil }
	const n = 6
	errs := make(chan error, n)
	for range n {
		pw := f.passwords.next(credit.CredentialPEFIN)
		go func() { errs <- f.change(credit.CredentialPEFIN, pw) }()
	}
	var refused int
	for range n - 1 {
		err := <-errs
		requireCode(t, err, credit.CodePasswordChangeInProgress, credit.KindConflict)
		refused++
	}
	close(release)
	require.NoError(t, <-errs)
	assert.Equal(t, n-1, refused)
	assert.Equal(t, 1, f.bureau.changeCount())
	f.requireConsistent(t)
}

func TestPasswordHistoryNewestFirst(t *testing.T) {
	f := newPasswordFixture(t)
	require.NoError(t, f.change(credit.CredentialConsultation, f.passwords.next(credit.CredentialConsultation)))
	f.bureau.beforeChange = func(credit.CredentialKind) error { return credit.BureauRejected("Recusada.") }
	requireCode(t, f.change(credit.CredentialPEFIN, f.passwords.next(credit.CredentialPEFIN)), credit.CodeBureauRejected, credit.KindUnprocessable)
	f.bureau.beforeChange = nil
	require.NoError(t, f.change(credit.CredentialPEFIN, f.passwords.next(credit.CredentialPEFIN)))

	changes := f.history_(t)
	require.Len(t, changes, 3)
	var got []string
	for _, c := range changes {
		got = append(got, string(c.Kind)+":"+string(c.Outcome))
		assert.Empty(t, c.ReplacedHash)
		assert.Equal(t, admin.Subject, c.Actor.Subject)
	}
	assert.Equal(t, []string{"pefin:changed", "pefin:rejected", "consultation:changed"}, got)
	assert.Equal(t, credit.CodeBureauRejected, changes[1].ErrorCode)

	page, next, err := f.svc.History(f.ctx(), f.integration.ID, credit.Page{Limit: 2})
	require.NoError(t, err)
	assert.Len(t, page, 2)
	require.NotEmpty(t, next)
	page, next, err = f.svc.History(f.ctx(), f.integration.ID, credit.Page{Limit: 2, Cursor: next})
	require.NoError(t, err)
	assert.Len(t, page, 1)
	assert.Empty(t, next)
}

func TestPasswordValuesNeverPrinted(t *testing.T) {
	req := credit.PasswordChangeRequest{IntegrationID: "i1", Kind: credit.CredentialConsultation, NewPassword: "Secr#t12", Confirmation: "Secr#t12"}
	c := credit.PasswordChange{ID: "c1", ReplacedHash: "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5"}
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	log.Info("x", slog.Any("req", req), slog.Any("change", c))
	for _, s := range []string{fmt.Sprint(req), fmt.Sprintf("%+v", req), fmt.Sprintf("%#v", req), fmt.Sprintf("%s", req), logs.String()} {
		assert.NotContains(t, s, "Secr#t12")
	}
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), logs.String()} {
		assert.NotContains(t, s, "argon2id")
	}
	assert.True(t, strings.Contains(fmt.Sprint(req), "[redacted]"))
}
