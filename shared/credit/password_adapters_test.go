package credit_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"creditanalysis/infra/connectsa-sandbox/sandbox"
	"creditanalysis/infra/connectsa-sandbox/sandboxtest"
	"creditanalysis/infra/dynamodblocal"
	"creditanalysis/infra/localaws"
	"creditanalysis/infra/secretsmanagerlocal"
	"creditanalysis/shared/connectsa"
	"creditanalysis/shared/credit"
	"creditanalysis/shared/dynamo"
	"creditanalysis/shared/secretsmanager"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The tests in this file run the password protocol on the real adapters:
// Secrets Manager through the SDK against its local stand-in, Connect SA
// over HTTP against its sandbox, and DynamoDB Local for the integration and
// the history. Failures are injected where each adapter really fails: in
// the Secrets Manager stand-in, in the sandbox, and in the DynamoDB client.

// dynamoFaults fails chosen DynamoDB operations from inside the SDK client,
// before the request leaves (so no retry hides it).
type dynamoFaults struct {
	mu    sync.Mutex
	plans map[string][]bool // operation -> fail or pass, call by call
}

// failCall makes the n-th next call (1-based) of op fail.
func (f *dynamoFaults) failCall(op string, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.plans == nil {
		f.plans = map[string][]bool{}
	}
	plan := make([]bool, n)
	plan[n-1] = true
	f.plans[op] = plan
}

func (f *dynamoFaults) clear() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.plans = nil
}

func (f *dynamoFaults) take(op string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	plan := f.plans[op]
	if len(plan) == 0 {
		return false
	}
	f.plans[op] = plan[1:]
	return plan[0]
}

func (f *dynamoFaults) add(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("injectFault",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			if op := awsmiddleware.GetOperationName(ctx); f.take(op) {
				return middleware.InitializeOutput{}, middleware.Metadata{}, errors.New("injected: " + op + " failed")
			}
			return next.HandleInitialize(ctx, in)
		}), middleware.Before)
}

// realAdapters is a table on DynamoDB Local shared by the tests of this
// file, through a client whose calls can be made to fail.
type realAdapters struct {
	client *dynamodb.Client
	table  string
	faults *dynamoFaults
	ids    func() string
}

var (
	adaptersOnce sync.Once
	adapters     *realAdapters
	adaptersErr  error
)

func sharedAdapters(t *testing.T) *realAdapters {
	t.Helper()
	endpoint := dynamodblocal.TestEndpoint(t)
	adaptersOnce.Do(func() {
		faults := &dynamoFaults{}
		client := dynamodb.NewFromConfig(localaws.Config(), func(o *dynamodb.Options) {
			o.BaseEndpoint = aws.String(endpoint)
			o.APIOptions = append(o.APIOptions, faults.add)
		})
		table := fmt.Sprintf("passwords-%d", time.Now().UnixNano())
		adaptersErr = dynamo.EnsureTable(context.Background(), client, table)
		adapters = &realAdapters{client: client, table: table, faults: faults, ids: letterIDs()}
	})
	require.NoError(t, adaptersErr)
	adapters.faults.clear()
	t.Cleanup(adapters.faults.clear)
	return adapters
}

// realFixture is the password service on the real adapters, with one
// integration whose account the sandbox has enrolled.
type realFixture struct {
	svc          *credit.PasswordService
	integrations *credit.IntegrationService
	store        *dynamo.Store
	secrets      *secretsmanager.Store
	sm           *secretsmanagerlocal.Server
	sandbox      *sandbox.Server
	dynamo       *realAdapters
	integration  credit.Integration
	logs         *lockedBuffer
	passwords    passwordSource
}

func newRealFixture(t *testing.T, bureauTimeout time.Duration) *realFixture {
	t.Helper()
	ctx := context.Background()
	ad := sharedAdapters(t)
	logs := &lockedBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug, ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey && len(groups) == 0 {
			return slog.Attr{}
		}
		return a
	}}))

	smServer, err := secretsmanagerlocal.New(t.TempDir())
	require.NoError(t, err)
	smServer.Logger = log
	smHTTP := httptest.NewServer(smServer)
	t.Cleanup(smHTTP.Close)
	secrets := secretsmanager.New(secretsmanagerlocal.Client(smHTTP.URL), secretsmanager.Config{Prefix: "test/passwords/"})
	bureau, sb := sandboxtest.Bureau(t, sandbox.Config{}, connectsa.Config{CallTimeout: bureauTimeout, Logger: log})
	store := dynamo.New(ad.client, ad.table)

	pepperRef, err := secretsmanager.EnsurePepper(ctx, secretsmanagerlocal.Client(smHTTP.URL), "test/password-pepper")
	require.NoError(t, err)
	svc := &credit.PasswordService{
		Integrations: store, Store: store, Secrets: secrets, Bureau: bureau,
		Hasher: cheapHasher, Pepper: secretsmanager.NewPepper(secretsmanagerlocal.Client(smHTTP.URL), pepperRef), NewID: ad.ids, Log: log,
	}
	access := &credit.BureauAccess{Secrets: secrets, Consultation: bureau, Registry: bureau, Accounts: bureau, Recovery: svc, Log: log}
	integrations := &credit.IntegrationService{Store: store, Secrets: secrets, Bureau: access, NewID: ad.ids, Log: log}
	req := validNewIntegration("branch-" + ad.ids())
	req.Login = sandboxtest.Account().Credentials.Login
	i, err := integrations.Create(credit.WithActor(ctx, admin), req)
	require.NoError(t, err)
	f := &realFixture{
		svc:          svc,
		integrations: integrations, store: store, secrets: secrets, sm: smServer, sandbox: sb, dynamo: ad,
		integration: i, logs: logs,
	}
	f.passwords.used = []string{initialConsultation, initialPEFIN}
	// The sandbox enrols the account with the stored passwords.
	f.requireConsistent(t)
	t.Cleanup(func() { f.requireNoPasswordLeft(t) })
	return f
}

func (f *realFixture) ctx() context.Context { return credit.WithActor(context.Background(), admin) }

func (f *realFixture) change(kind credit.CredentialKind, password string) error {
	return f.svc.Change(f.ctx(), credit.PasswordChangeRequest{
		IntegrationID: f.integration.ID, Kind: kind, NewPassword: password, Confirmation: password, RequestID: "req-" + f.dynamo.ids(),
	})
}

func (f *realFixture) current(t *testing.T) credit.IntegrationSecrets {
	t.Helper()
	s, err := f.secrets.Reload(context.Background(), f.integration.SecretRef)
	require.NoError(t, err)
	return s
}

func (f *realFixture) pending(t *testing.T) bool {
	t.Helper()
	_, _, ok, err := f.secrets.Pending(context.Background(), f.integration.SecretRef)
	require.NoError(t, err)
	return ok
}

func (f *realFixture) connectionOK(t *testing.T) bool {
	t.Helper()
	test, err := f.integrations.TestConnection(f.ctx(), f.integration.ID)
	require.NoError(t, err)
	return test.OK
}

func (f *realFixture) history(t *testing.T) []credit.PasswordChange {
	t.Helper()
	changes, _, err := f.svc.History(f.ctx(), f.integration.ID, credit.Page{Limit: credit.MaxPageLimit})
	require.NoError(t, err)
	return changes
}

// requireConsistent: nothing pending, and the bureau accepts what Secrets
// Manager holds as current (the connection test passes).
func (f *realFixture) requireConsistent(t *testing.T) {
	t.Helper()
	assert.False(t, f.pending(t), "no pending version is left behind")
	assert.True(t, f.connectionOK(t), "the connection test passes with the stored passwords")
}

func (f *realFixture) requireNewChangeWorks(t *testing.T) {
	t.Helper()
	for _, kind := range []credit.CredentialKind{credit.CredentialConsultation, credit.CredentialPEFIN} {
		pw := f.passwords.next(kind)
		require.NoError(t, f.change(kind, pw), "a new %s change", kind)
		assert.Equal(t, pw, passwordOf(f.current(t), kind))
	}
	f.requireConsistent(t)
}

// requireNoPasswordLeft checks the logs (the service's, the bureau
// adapter's, the Secrets Manager stand-in's) and every item of the table:
// no password anywhere, and hashes only in the table.
func (f *realFixture) requireNoPasswordLeft(t *testing.T) {
	t.Helper()
	// A scan is the test looking at everything; no request path scans.
	out, err := f.dynamo.client.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(f.dynamo.table)})
	require.NoError(t, err)
	dump, err := json.Marshal(out.Items)
	require.NoError(t, err)
	logs := f.logs.String()
	for _, pw := range f.passwords.used {
		assert.NotContains(t, logs, pw, "a password reached the log")
		assert.NotContains(t, string(dump), `"`+pw+`"`, "a password reached DynamoDB")
	}
	assert.NotContains(t, logs, "$argon2id$", "a hash reached the log")
}

func TestPasswordChangeOnRealAdapters(t *testing.T) {
	injected := errors.New("injected failure")
	tests := []struct {
		name string
		// bureauTimeout is the adapter's call timeout.
		bureauTimeout time.Duration
		inject        func(t *testing.T, f *realFixture, kind credit.CredentialKind) (next string)
		code          string
		changed       bool
		outcome       credit.PasswordChangeOutcome
		// afterward runs once the faults are gone, before the checks.
		afterward func(t *testing.T, f *realFixture)
	}{
		{
			name: "Secrets Manager refuses the pending version",
			inject: func(t *testing.T, f *realFixture, kind credit.CredentialKind) string {
				f.sm.FailNext("PutSecretValue", injected)
				return f.passwords.next(kind)
			},
			code: credit.CodeInternal, outcome: credit.PasswordChangeFailed,
		},
		{
			name: "Secrets Manager stores the pending version, its answer is lost",
			inject: func(t *testing.T, f *realFixture, kind credit.CredentialKind) string {
				f.sm.FailNextAfter("PutSecretValue", injected)
				return f.passwords.next(kind)
			},
			code: credit.CodeInternal, outcome: credit.PasswordChangeFailed,
		},
		{
			name: "the bureau answers 503",
			inject: func(t *testing.T, f *realFixture, kind credit.CredentialKind) string {
				f.sandbox.SetConfig(sandbox.Config{ErrorRate: 1, FaultOperations: []sandbox.Operation{sandbox.OpPassword}})
				return f.passwords.next(kind)
			},
			code: credit.CodeBureauUnavailable, outcome: credit.PasswordChangeFailed,
		},
		{
			name: "the bureau refuses a password it saw before (bureau_rejected)",
			inject: func(t *testing.T, f *realFixture, kind credit.CredentialKind) string {
				// The account moves to another password behind the service's
				// back, so that its first password is known to the bureau
				// only; asking for it again is the bureau's to refuse.
				ctx := context.Background()
				cur := f.current(t)
				other := f.passwords.next(kind)
				acct := f.integration.Account(cur)
				if kind == credit.CredentialPEFIN {
					require.NoError(t, f.svc.Bureau.ChangePEFINPassword(ctx, acct, other))
				} else {
					require.NoError(t, f.svc.Bureau.ChangeConsultationPassword(ctx, acct, other))
				}
				v, err := f.secrets.PutPending(ctx, f.integration.SecretRef, withPasswordFor(cur, kind, other), "by-hand-"+f.dynamo.ids())
				require.NoError(t, err)
				require.NoError(t, f.secrets.Promote(ctx, f.integration.SecretRef, v))
				return passwordOf(cur, kind)
			},
			code: credit.CodeBureauRejected, outcome: credit.PasswordChangeRejected,
		},
		{
			name:          "the bureau applies the change and the answer is lost (timeout)",
			bureauTimeout: time.Second,
			inject: func(t *testing.T, f *realFixture, kind credit.CredentialKind) string {
				f.sandbox.SetConfig(sandbox.Config{LostAnswerRate: 1, FaultOperations: []sandbox.Operation{sandbox.OpPassword}})
				return f.passwords.next(kind)
			},
			changed: true, outcome: credit.PasswordChanged,
		},
		{
			name: "promotion fails once",
			inject: func(t *testing.T, f *realFixture, kind credit.CredentialKind) string {
				f.sm.FailNext("UpdateSecretVersionStage", injected)
				return f.passwords.next(kind)
			},
			changed: true, outcome: credit.PasswordChanged,
		},
		{
			name: "promotion keeps failing: left pending until a reader recovers it",
			inject: func(t *testing.T, f *realFixture, kind credit.CredentialKind) string {
				f.sm.Inject(func(op string) error {
					if op == "UpdateSecretVersionStage" {
						return injected
					}
					return nil
				})
				return f.passwords.next(kind)
			},
			code: credit.CodePasswordChangeIncomplete, changed: true, outcome: credit.PasswordChanged,
			afterward: func(t *testing.T, f *realFixture) {
				assert.True(t, f.pending(t), "the pending version holds the new password")
				assert.False(t, f.connectionOK(t), "until recovered, the stored password is the old one")
				rec, err := f.svc.Recover(f.ctx(), f.integration.ID)
				require.NoError(t, err)
				assert.Equal(t, credit.RecoveryCompleted, rec.Outcome)
			},
		},
		{
			name: "the history write before the change fails",
			inject: func(t *testing.T, f *realFixture, kind credit.CredentialKind) string {
				f.dynamo.faults.failCall("TransactWriteItems", 1)
				return f.passwords.next(kind)
			},
			code: credit.CodeInternal,
		},
		{
			name: "the history write after the change fails",
			inject: func(t *testing.T, f *realFixture, kind credit.CredentialKind) string {
				f.dynamo.faults.failCall("TransactWriteItems", 2)
				return f.passwords.next(kind)
			},
			changed: true, outcome: credit.PasswordChangeRunning,
		},
	}
	for _, kind := range []credit.CredentialKind{credit.CredentialConsultation, credit.CredentialPEFIN} {
		for _, tt := range tests {
			t.Run(string(kind)+"/"+tt.name, func(t *testing.T) {
				timeout := tt.bureauTimeout
				if timeout == 0 {
					timeout = 10 * time.Second
				}
				f := newRealFixture(t, timeout)
				pw := tt.inject(t, f, kind)
				before := f.current(t)

				err := f.change(kind, pw)
				if tt.code == "" {
					require.NoError(t, err)
				} else {
					require.Error(t, err)
					assert.Equal(t, tt.code, credit.ErrorCode(err), "%v", err)
					assert.NotContains(t, err.Error(), pw)
				}
				if tt.code == credit.CodeBureauRejected {
					assert.Equal(t, credit.KindUnprocessable, credit.ErrorKind(err))
					assert.Contains(t, credit.ErrorMessage(err), "diferente de qualquer senha utilizada anteriormente", "the bureau's message")
				}
				f.sm.Inject(nil)
				f.sandbox.SetConfig(sandbox.Config{})
				f.dynamo.faults.clear()
				if tt.afterward != nil {
					tt.afterward(t, f)
				}

				want := before
				if tt.changed {
					want = withPasswordFor(before, kind, pw)
				}
				assert.Equal(t, want, f.current(t))
				f.requireConsistent(t)
				if tt.outcome != "" {
					changes := f.history(t)
					require.Len(t, changes, 1)
					assert.Equal(t, tt.outcome, changes[0].Outcome)
				}
				f.requireNewChangeWorks(t)
				if tt.outcome == credit.PasswordChangeRunning {
					changes := f.history(t)
					first := changes[len(changes)-1]
					assert.Equal(t, credit.PasswordChanged, first.Outcome, "the next change closed the record")
					assert.True(t, first.Recovered)
				}
				if tt.changed {
					requireReused(t, f.change(kind, passwordOf(before, kind)))
				}
			})
		}
	}
}

func requireReused(t *testing.T, err error) {
	t.Helper()
	require.Error(t, err)
	assert.Equal(t, credit.CodePasswordReused, credit.ErrorCode(err), "%v", err)
}

// TestPasswordChangeOneAtATimeOnRealAdapters holds a change inside Secrets
// Manager and checks that a second one is refused meanwhile.
func TestPasswordChangeOneAtATimeOnRealAdapters(t *testing.T) {
	f := newRealFixture(t, 10*time.Second)
	entered, proceed := make(chan struct{}), make(chan struct{})
	var once sync.Once
	f.sm.Inject(func(op string) error {
		if op == "PutSecretValue" {
			once.Do(func() {
				close(entered)
				<-proceed
			})
		}
		return nil
	})
	first := f.passwords.next(credit.CredentialPEFIN)
	done := make(chan error, 1)
	go func() { done <- f.change(credit.CredentialPEFIN, first) }()
	<-entered

	for _, kind := range []credit.CredentialKind{credit.CredentialPEFIN, credit.CredentialConsultation} {
		err := f.change(kind, f.passwords.next(kind))
		require.Error(t, err)
		assert.Equal(t, credit.CodePasswordChangeInProgress, credit.ErrorCode(err), "%v", err)
	}
	close(proceed)
	require.NoError(t, <-done)
	f.sm.Inject(nil)
	assert.Equal(t, first, f.current(t).PEFINPassword)
	f.requireConsistent(t)
	f.requireNewChangeWorks(t)
}
