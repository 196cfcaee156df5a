package secretsmanager_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"creditanalysis/infra/localaws"
	"creditanalysis/infra/secretsmanagerlocal"
	"creditanalysis/shared/credit"
	"creditanalysis/shared/credit/credittest"
	"creditanalysis/shared/secretsmanager"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var ctx = context.Background()

var (
	first  = credit.IntegrationSecrets{ConsultationPassword: "Ab1@cdEf", PEFINPassword: "402918"}
	second = credit.IntegrationSecrets{ConsultationPassword: "Zy9#wxUv", PEFINPassword: "718305"}
	third  = credit.IntegrationSecrets{ConsultationPassword: "Qq7!rrSs", PEFINPassword: "150926"}
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// harness is the real adapter, through the real SDK over HTTP, on the
// Secrets Manager stand-in, with the requests counted per operation.
type harness struct {
	srv    *secretsmanagerlocal.Server
	client *sm.Client
	store  *secretsmanager.Store
	clock  *fakeClock

	mu    sync.Mutex
	calls map[string]int
	// hold, when set, is called with a request's operation after the
	// stand-in answered it and before the answer is sent.
	hold func(op string)
}

func newHarness(t *testing.T, cfg secretsmanager.Config) *harness {
	t.Helper()
	srv, err := secretsmanagerlocal.New(t.TempDir())
	require.NoError(t, err)
	h := &harness{srv: srv, calls: map[string]int{}, clock: &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}}
	srv.Now = h.clock.Now
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "secretsmanager.")
		h.mu.Lock()
		h.calls[op]++
		hold := h.hold
		h.mu.Unlock()
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, r)
		if hold != nil {
			hold(op)
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	}))
	t.Cleanup(hs.Close)
	h.client = sm.NewFromConfig(localaws.Config(), func(o *sm.Options) { o.BaseEndpoint = aws.String(hs.URL) })
	h.store = secretsmanager.New(h.client, cfg)
	h.store.Now = h.clock.Now
	return h
}

func (h *harness) count(op string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.calls[op]
}

func (h *harness) stages(t *testing.T, ref string) map[string][]string {
	t.Helper()
	d, err := h.client.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String(ref)})
	require.NoError(t, err)
	for _, s := range d.VersionIdsToStages {
		sort.Strings(s)
	}
	return d.VersionIdsToStages
}

func TestSecretStoreContract(t *testing.T) {
	credittest.SecretStore(t, func(t *testing.T) credit.SecretStore {
		return newHarness(t, secretsmanager.Config{}).store
	})
}

func TestSecretStoreContractWithoutCache(t *testing.T) {
	credittest.SecretStore(t, func(t *testing.T) credit.SecretStore {
		return newHarness(t, secretsmanager.Config{CacheTTL: -1}).store
	})
}

func TestSecretLayout(t *testing.T) {
	h := newHarness(t, secretsmanager.Config{
		Prefix:   "test/integrations/",
		KMSKeyID: "alias/creditanalysis",
		Tags:     map[string]string{"service": "creditanalysis", "env": "dev"},
	})
	ref, err := h.store.Create(ctx, "integration-1", first)
	require.NoError(t, err)
	assert.Regexp(t, `^arn:aws:secretsmanager:us-east-1:000000000000:secret:test/integrations/integration-1-[A-Za-z0-9]{6}$`, ref)

	raw, err := h.client.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("test/integrations/integration-1")})
	require.NoError(t, err)
	assert.Equal(t, `{"consultationPassword":"Ab1@cdEf","pefinPassword":"402918"}`, aws.ToString(raw.SecretString))
	assert.Equal(t, []string{"AWSCURRENT"}, raw.VersionStages)

	d, err := h.client.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String(ref)})
	require.NoError(t, err)
	assert.Equal(t, "alias/creditanalysis", aws.ToString(d.KmsKeyId))
	assert.Equal(t, []types.Tag{
		{Key: aws.String("env"), Value: aws.String("dev")},
		{Key: aws.String("service"), Value: aws.String("creditanalysis")},
	}, d.Tags)
	assert.NotContains(t, aws.ToString(d.Description), "402918")

	t.Run("default prefix", func(t *testing.T) {
		h := newHarness(t, secretsmanager.Config{})
		ref, err := h.store.Create(ctx, "integration-2", first)
		require.NoError(t, err)
		assert.Contains(t, ref, ":secret:"+secretsmanager.DefaultPrefix+"integration-2-")
	})
	t.Run("empty integration ID", func(t *testing.T) {
		_, err := h.store.Create(ctx, "", first)
		assert.Equal(t, credit.KindInternal, credit.ErrorKind(err))
	})
}

func TestPromoteFollowsAWSStages(t *testing.T) {
	h := newHarness(t, secretsmanager.Config{})
	ref, err := h.store.Create(ctx, "integration-1", first)
	require.NoError(t, err)
	initial := ""
	for id := range h.stages(t, ref) {
		initial = id
	}

	v2, err := h.store.PutPending(ctx, ref, second, "change-2")
	require.NoError(t, err)
	assert.Len(t, v2, 36, "a valid ClientRequestToken")
	assert.Equal(t, map[string][]string{initial: {"AWSCURRENT"}, v2: {"AWSPENDING"}}, h.stages(t, ref))

	require.NoError(t, h.store.Promote(ctx, ref, v2))
	assert.Equal(t, map[string][]string{initial: {"AWSPREVIOUS"}, v2: {"AWSCURRENT"}}, h.stages(t, ref))

	v3, err := h.store.PutPending(ctx, ref, third, "change-3")
	require.NoError(t, err)
	require.NoError(t, h.store.Promote(ctx, ref, v3))
	assert.Equal(t, map[string][]string{v2: {"AWSPREVIOUS"}, v3: {"AWSCURRENT"}}, h.stages(t, ref))
	prev, err := h.client.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String(ref), VersionStage: aws.String("AWSPREVIOUS")})
	require.NoError(t, err)
	assert.Contains(t, aws.ToString(prev.SecretString), second.PEFINPassword)
}

func TestCurrentCache(t *testing.T) {
	const ttl = time.Minute

	t.Run("a second read within the TTL does not reach Secrets Manager", func(t *testing.T) {
		h := newHarness(t, secretsmanager.Config{CacheTTL: ttl})
		ref, err := h.store.Create(ctx, "i", first)
		require.NoError(t, err)
		for range 3 {
			got, err := h.store.Current(ctx, ref)
			require.NoError(t, err)
			assert.Equal(t, first, got)
		}
		assert.Equal(t, 1, h.count("GetSecretValue"))

		h.clock.Advance(ttl - time.Second)
		_, err = h.store.Current(ctx, ref)
		require.NoError(t, err)
		assert.Equal(t, 1, h.count("GetSecretValue"), "still fresh")

		h.clock.Advance(time.Second)
		_, err = h.store.Current(ctx, ref)
		require.NoError(t, err)
		assert.Equal(t, 2, h.count("GetSecretValue"), "expired")
	})

	t.Run("this process's writes invalidate it", func(t *testing.T) {
		h := newHarness(t, secretsmanager.Config{CacheTTL: ttl})
		ref, err := h.store.Create(ctx, "i", first)
		require.NoError(t, err)
		_, err = h.store.Current(ctx, ref)
		require.NoError(t, err)

		v2, err := h.store.PutPending(ctx, ref, second, "change-2")
		require.NoError(t, err)
		require.NoError(t, h.store.Promote(ctx, ref, v2))
		got, err := h.store.Current(ctx, ref)
		require.NoError(t, err)
		assert.Equal(t, second, got)

		require.NoError(t, h.store.ScheduleDeletion(ctx, ref))
		_, err = h.store.Current(ctx, ref)
		assert.Equal(t, credit.CodeSecretNotFound, credit.ErrorCode(err))
	})

	t.Run("another process's change is seen after the TTL, or at once by Reload", func(t *testing.T) {
		h := newHarness(t, secretsmanager.Config{CacheTTL: ttl})
		other := secretsmanager.New(h.client, secretsmanager.Config{CacheTTL: ttl})
		ref, err := h.store.Create(ctx, "i", first)
		require.NoError(t, err)
		_, err = h.store.Current(ctx, ref)
		require.NoError(t, err)

		v2, err := other.PutPending(ctx, ref, second, "change-2")
		require.NoError(t, err)
		require.NoError(t, other.Promote(ctx, ref, v2))

		got, err := h.store.Current(ctx, ref)
		require.NoError(t, err)
		assert.Equal(t, first, got, "cached")
		got, err = h.store.Reload(ctx, ref)
		require.NoError(t, err)
		assert.Equal(t, second, got)
		calls := h.count("GetSecretValue")
		got, err = h.store.Current(ctx, ref)
		require.NoError(t, err)
		assert.Equal(t, second, got, "Reload refreshed the cache")
		assert.Equal(t, calls, h.count("GetSecretValue"))
	})

	t.Run("a negative TTL turns it off", func(t *testing.T) {
		h := newHarness(t, secretsmanager.Config{CacheTTL: -1})
		ref, err := h.store.Create(ctx, "i", first)
		require.NoError(t, err)
		for range 3 {
			_, err := h.store.Current(ctx, ref)
			require.NoError(t, err)
		}
		assert.Equal(t, 3, h.count("GetSecretValue"))
	})

	t.Run("errors are not cached", func(t *testing.T) {
		h := newHarness(t, secretsmanager.Config{CacheTTL: ttl})
		ref, err := h.store.Create(ctx, "i", first)
		require.NoError(t, err)
		h.srv.FailNext("GetSecretValue", errors.New("boom"))
		_, err = h.store.Current(ctx, ref)
		require.Error(t, err)
		got, err := h.store.Current(ctx, ref)
		require.NoError(t, err)
		assert.Equal(t, first, got)
	})
}

// A read that overlaps a promotion may return the old value, but must not
// leave it in the cache.
func TestCacheKeepsNoReadOverlappingAWrite(t *testing.T) {
	h := newHarness(t, secretsmanager.Config{CacheTTL: time.Hour})
	ref, err := h.store.Create(ctx, "i", first)
	require.NoError(t, err)
	v2, err := h.store.PutPending(ctx, ref, second, "change-2")
	require.NoError(t, err)

	answered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	h.mu.Lock()
	h.hold = func(op string) {
		if op == "GetSecretValue" {
			once.Do(func() {
				close(answered)
				<-release
			})
		}
	}
	h.mu.Unlock()

	type result struct {
		v   credit.IntegrationSecrets
		err error
	}
	done := make(chan result)
	go func() {
		v, err := h.store.Current(ctx, ref)
		done <- result{v, err}
	}()
	<-answered // the stand-in has read the old value
	require.NoError(t, h.store.Promote(ctx, ref, v2))
	close(release)
	r := <-done
	require.NoError(t, r.err)
	assert.Equal(t, first, r.v, "the overlapping read saw the old value")

	got, err := h.store.Current(ctx, ref)
	require.NoError(t, err)
	assert.Equal(t, second, got, "and did not cache it")
}

func TestConcurrentReadersAndWriter(t *testing.T) {
	h := newHarness(t, secretsmanager.Config{CacheTTL: time.Hour})
	ref, err := h.store.Create(ctx, "i", first)
	require.NoError(t, err)
	values := []credit.IntegrationSecrets{second, third, first, second, third}
	allowed := map[credit.IntegrationSecrets]bool{first: true, second: true, third: true}

	var wg sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan error, 100)
	for range 8 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				v, err := h.store.Current(ctx, ref)
				if err != nil {
					errs <- err
					return
				}
				if !allowed[v] {
					errs <- fmt.Errorf("read a value never written: %v", v)
					return
				}
			}
		})
	}
	for i, v := range values {
		id, err := h.store.PutPending(ctx, ref, v, fmt.Sprintf("change-%d", i))
		require.NoError(t, err)
		require.NoError(t, h.store.Promote(ctx, ref, id))
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got, err := h.store.Current(ctx, ref)
	require.NoError(t, err)
	assert.Equal(t, values[len(values)-1], got)
}

func TestFailuresAndRetries(t *testing.T) {
	secretValues := []string{first.ConsultationPassword, first.PEFINPassword, second.ConsultationPassword, second.PEFINPassword}
	noValues := func(t *testing.T, err error) {
		t.Helper()
		for _, v := range secretValues {
			assert.NotContains(t, fmt.Sprintf("%+v", err), v)
		}
	}

	t.Run("an injected failure is internal", func(t *testing.T) {
		for _, op := range []string{"CreateSecret", "GetSecretValue", "PutSecretValue", "DescribeSecret", "UpdateSecretVersionStage", "DeleteSecret"} {
			t.Run(op, func(t *testing.T) {
				h := newHarness(t, secretsmanager.Config{CacheTTL: -1})
				ref, err := h.store.Create(ctx, "i", first)
				require.NoError(t, err)
				v2, err := h.store.PutPending(ctx, ref, second, "change-2")
				require.NoError(t, err)
				h.srv.FailNext(op, errors.New("injected"))
				switch op {
				case "CreateSecret":
					_, err = h.store.Create(ctx, "j", first)
				case "GetSecretValue":
					_, err = h.store.Current(ctx, ref)
				case "PutSecretValue":
					_, err = h.store.PutPending(ctx, ref, third, "change-3")
				case "DescribeSecret":
					err = h.store.DiscardPending(ctx, ref)
				case "UpdateSecretVersionStage":
					err = h.store.Promote(ctx, ref, v2)
				case "DeleteSecret":
					err = h.store.ScheduleDeletion(ctx, ref)
				}
				require.Error(t, err)
				assert.Equal(t, credit.KindInternal, credit.ErrorKind(err))
				assert.Equal(t, credit.InternalMessage, credit.ErrorMessage(err))
				noValues(t, err)
				got, err := h.store.Current(ctx, ref)
				require.NoError(t, err)
				assert.Equal(t, first, got, "nothing changed")
			})
		}
	})

	t.Run("put pending whose answer was lost, retried", func(t *testing.T) {
		h := newHarness(t, secretsmanager.Config{})
		ref, err := h.store.Create(ctx, "i", first)
		require.NoError(t, err)
		h.srv.FailNextAfter("PutSecretValue", errors.New("timeout"))
		_, err = h.store.PutPending(ctx, ref, second, "change-2")
		require.Error(t, err)
		id, err := h.store.PutPending(ctx, ref, second, "change-2")
		require.NoError(t, err)
		got, gotID, ok, err := h.store.Pending(ctx, ref)
		require.NoError(t, err)
		require.True(t, ok)
		assert.Equal(t, second, got)
		assert.Equal(t, id, gotID)
		assert.Len(t, h.stages(t, ref), 2, "one current, one pending")
	})

	t.Run("promote whose answer was lost, retried", func(t *testing.T) {
		h := newHarness(t, secretsmanager.Config{})
		ref, err := h.store.Create(ctx, "i", first)
		require.NoError(t, err)
		id, err := h.store.PutPending(ctx, ref, second, "change-2")
		require.NoError(t, err)
		h.srv.FailNextAfter("UpdateSecretVersionStage", errors.New("timeout"))
		require.Error(t, h.store.Promote(ctx, ref, id))
		got, err := h.store.Current(ctx, ref)
		require.NoError(t, err)
		assert.Equal(t, second, got, "the move took effect")

		require.NoError(t, h.store.Promote(ctx, ref, id))
		got, err = h.store.Current(ctx, ref)
		require.NoError(t, err)
		assert.Equal(t, second, got)
		_, _, ok, err := h.store.Pending(ctx, ref)
		require.NoError(t, err)
		assert.False(t, ok)
	})

	t.Run("promote that stopped between its two steps, retried", func(t *testing.T) {
		h := newHarness(t, secretsmanager.Config{})
		ref, err := h.store.Create(ctx, "i", first)
		require.NoError(t, err)
		id, err := h.store.PutPending(ctx, ref, second, "change-2")
		require.NoError(t, err)
		var updates int
		var mu sync.Mutex
		h.srv.Inject(func(op string) error {
			mu.Lock()
			defer mu.Unlock()
			if op == "UpdateSecretVersionStage" {
				if updates++; updates == 2 {
					return errors.New("crash")
				}
			}
			return nil
		})
		require.Error(t, h.store.Promote(ctx, ref, id))
		h.srv.Inject(nil)

		// A reader sees the new version both as current and as pending.
		got, err := h.store.Current(ctx, ref)
		require.NoError(t, err)
		assert.Equal(t, second, got)
		pending, pendingID, ok, err := h.store.Pending(ctx, ref)
		require.NoError(t, err)
		require.True(t, ok)
		assert.Equal(t, second, pending)
		assert.Equal(t, id, pendingID)

		require.NoError(t, h.store.Promote(ctx, ref, id))
		_, _, ok, err = h.store.Pending(ctx, ref)
		require.NoError(t, err)
		assert.False(t, ok)
	})

	t.Run("a secret string that is not ours", func(t *testing.T) {
		h := newHarness(t, secretsmanager.Config{})
		out, err := h.client.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("foreign"), SecretString: aws.String("Ab1@cdEf 402918")})
		require.NoError(t, err)
		_, err = h.store.Current(ctx, aws.ToString(out.ARN))
		require.Error(t, err)
		assert.Equal(t, credit.KindInternal, credit.ErrorKind(err))
		noValues(t, err)
	})
}

func TestScheduleDeletionRecoveryWindow(t *testing.T) {
	for _, tc := range []struct {
		cfg  int32
		days int
	}{
		{0, secretsmanager.DefaultRecoveryWindowDays},
		{30, 30},
	} {
		t.Run(fmt.Sprint(tc.days), func(t *testing.T) {
			h := newHarness(t, secretsmanager.Config{RecoveryWindowDays: tc.cfg})
			ref, err := h.store.Create(ctx, "i", first)
			require.NoError(t, err)
			require.NoError(t, h.store.ScheduleDeletion(ctx, ref))

			h.clock.Advance(time.Duration(tc.days)*24*time.Hour - time.Second)
			_, err = h.client.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String(ref)})
			require.NoError(t, err, "still recoverable")
			h.clock.Advance(time.Second)
			_, err = h.client.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String(ref)})
			var rnf *types.ResourceNotFoundException
			require.ErrorAs(t, err, &rnf, "gone after the window")

			_, err = h.store.Create(ctx, "i", second)
			require.NoError(t, err, "the name is free again")
		})
	}
}

func TestConfigFromEnv(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     map[string]string
		want    secretsmanager.Config
		wantErr string
	}{
		{name: "defaults", want: secretsmanager.Config{Prefix: "creditanalysis/integrations/", CacheTTL: 5 * time.Minute, RecoveryWindowDays: 7}},
		{name: "all set",
			env:  map[string]string{"SECRET_PREFIX": "dev/creditanalysis/", "SECRET_CACHE_TTL": "90s", "SECRET_RECOVERY_WINDOW_DAYS": "30", "SECRET_KMS_KEY_ID": "alias/k"},
			want: secretsmanager.Config{Prefix: "dev/creditanalysis/", CacheTTL: 90 * time.Second, RecoveryWindowDays: 30, KMSKeyID: "alias/k"}},
		{name: "cache off", env: map[string]string{"SECRET_CACHE_TTL": "0"},
			want: secretsmanager.Config{Prefix: "creditanalysis/integrations/", CacheTTL: -1, RecoveryWindowDays: 7}},
		{name: "bad TTL", env: map[string]string{"SECRET_CACHE_TTL": "five"}, wantErr: "SECRET_CACHE_TTL"},
		{name: "negative TTL", env: map[string]string{"SECRET_CACHE_TTL": "-1m"}, wantErr: "SECRET_CACHE_TTL"},
		{name: "window too short", env: map[string]string{"SECRET_RECOVERY_WINDOW_DAYS": "6"}, wantErr: "SECRET_RECOVERY_WINDOW_DAYS"},
		{name: "window not a number", env: map[string]string{"SECRET_RECOVERY_WINDOW_DAYS": "a week"}, wantErr: "SECRET_RECOVERY_WINDOW_DAYS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, k := range []string{"SECRET_PREFIX", "SECRET_CACHE_TTL", "SECRET_RECOVERY_WINDOW_DAYS", "SECRET_KMS_KEY_ID"} {
				t.Setenv(k, tc.env[k])
			}
			got, err := secretsmanager.ConfigFromEnv()
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}
