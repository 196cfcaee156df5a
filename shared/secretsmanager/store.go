// Package secretsmanager is the AWS Secrets Manager adapter of
// credit.SecretStore. It owns how the bureau passwords are kept: one secret
// per integration, named Prefix + integration ID, whose secret string is
// {"consultationPassword":"...","pefinPassword":"..."}; a password change
// rides on Secrets Manager's own version stages (AWSPENDING beside
// AWSCURRENT, promotion leaving AWSPREVIOUS behind); and reads of the
// current version go through a small in-memory cache with a TTL, because
// AWS's caching library for SDK v2 is not available to us.
//
// The SDK client is injected (built once per cold start), so the same code
// runs against AWS and against the local stand-in.
package secretsmanager

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	"creditanalysis/shared/credit"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/google/uuid"
)

// Defaults of Config.
const (
	DefaultPrefix             = "creditanalysis/integrations/"
	DefaultCacheTTL           = 5 * time.Minute
	DefaultRecoveryWindowDays = 7
)

// The version stages Secrets Manager gives meaning to.
const (
	stageCurrent = "AWSCURRENT"
	stagePending = "AWSPENDING"
)

// Config tunes the Store.
type Config struct {
	// Prefix starts every secret's name; the template grants the functions
	// access to this prefix only. "" means DefaultPrefix.
	Prefix string
	// CacheTTL is how long Current trusts a value it read: another process's
	// password change is seen after at most this long (Reload sees it at
	// once). 0 means DefaultCacheTTL; a negative TTL turns the cache off.
	CacheTTL time.Duration
	// RecoveryWindowDays is how long a secret scheduled for deletion can
	// still be restored (AWS accepts 7 to 30). 0 means
	// DefaultRecoveryWindowDays.
	RecoveryWindowDays int32
	// KMSKeyID, when set, encrypts new secrets with that key instead of the
	// account's aws/secretsmanager key.
	KMSKeyID string
	// Tags are put on every secret created.
	Tags map[string]string
	// PepperSecret names the secret holding the password pepper
	// (PASSWORD_PEPPER_SECRET).
	PepperSecret string
}

// Environment variables read by ConfigFromEnv.
const (
	EnvPrefix             = "SECRET_PREFIX"
	EnvCacheTTL           = "SECRET_CACHE_TTL"
	EnvRecoveryWindowDays = "SECRET_RECOVERY_WINDOW_DAYS"
	EnvKMSKeyID           = "SECRET_KMS_KEY_ID"
)

// ConfigFromEnv reads SECRET_PREFIX (default DefaultPrefix),
// SECRET_CACHE_TTL (a Go duration such as "5m"; "0" turns the cache off;
// default DefaultCacheTTL), SECRET_RECOVERY_WINDOW_DAYS (7 to 30, default
// DefaultRecoveryWindowDays) and SECRET_KMS_KEY_ID (optional). A malformed
// value is an error rather than a silent default.
func ConfigFromEnv() (Config, error) {
	cfg := Config{
		Prefix:             DefaultPrefix,
		CacheTTL:           DefaultCacheTTL,
		RecoveryWindowDays: DefaultRecoveryWindowDays,
		KMSKeyID:           os.Getenv(EnvKMSKeyID),
		PepperSecret:       os.Getenv(EnvPepperSecret),
	}
	if v := os.Getenv(EnvPrefix); v != "" {
		cfg.Prefix = v
	}
	if v := os.Getenv(EnvCacheTTL); v != "" {
		ttl, err := time.ParseDuration(v)
		if err != nil || ttl < 0 {
			return Config{}, fmt.Errorf("%s: want a duration such as 5m, got %q", EnvCacheTTL, v)
		}
		cfg.CacheTTL = ttl
		if ttl == 0 {
			cfg.CacheTTL = -1
		}
	}
	if v := os.Getenv(EnvRecoveryWindowDays); v != "" {
		days, err := strconv.Atoi(v)
		if err != nil || days < 7 || days > 30 {
			return Config{}, fmt.Errorf("%s: want 7 to 30 days, got %q", EnvRecoveryWindowDays, v)
		}
		cfg.RecoveryWindowDays = int32(days)
	}
	return cfg, nil
}

// Store implements credit.SecretStore on Secrets Manager. Safe for
// concurrent use.
type Store struct {
	client *sm.Client
	cfg    Config
	// Now is the cache's clock; time.Now when nil.
	Now func() time.Time

	mu    sync.Mutex
	cache map[string]cached // by ref
	// gen counts invalidations: a read that started before one must not
	// fill the cache with what may be the replaced value.
	gen uint64
}

type cached struct {
	value   credit.IntegrationSecrets
	expires time.Time
}

var _ credit.SecretStore = (*Store)(nil)

// New returns a Store using client (built once per cold start) and cfg, its
// zero fields replaced by the defaults.
func New(client *sm.Client, cfg Config) *Store {
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultPrefix
	}
	if cfg.CacheTTL == 0 {
		cfg.CacheTTL = DefaultCacheTTL
	}
	if cfg.RecoveryWindowDays == 0 {
		cfg.RecoveryWindowDays = DefaultRecoveryWindowDays
	}
	return &Store{client: client, cfg: cfg, cache: map[string]cached{}}
}

// wireSecrets is the secret string's JSON; credit.IntegrationSecrets refuses
// to be marshalled anywhere else.
type wireSecrets struct {
	ConsultationPassword string `json:"consultationPassword"`
	PEFINPassword        string `json:"pefinPassword"`
}

func encode(s credit.IntegrationSecrets) (*string, error) {
	b, err := json.Marshal(wireSecrets(s))
	if err != nil {
		return nil, credit.Internal(err, "secretsmanager: encode secret")
	}
	return aws.String(string(b)), nil
}

func decode(ref string, str *string) (credit.IntegrationSecrets, error) {
	var w wireSecrets
	// The JSON error is dropped: its text can quote the value.
	if str == nil || json.Unmarshal([]byte(*str), &w) != nil {
		return credit.IntegrationSecrets{}, credit.Internal(errors.New("secret string is not the expected JSON object"), "secretsmanager: decode %s", ref)
	}
	return credit.IntegrationSecrets(w), nil
}

// versionID turns a caller's change token into a ClientRequestToken, which
// must be 32 to 64 characters long: the same token always gives the same
// version, which is what makes PutPending idempotent.
func versionID(token string) string {
	return uuid.NewSHA1(uuid.NameSpaceOID, []byte("creditanalysis/secret-version/"+token)).String()
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// fromCache returns ref's cached current value while it is fresh.
func (s *Store) fromCache(ref string) (credit.IntegrationSecrets, bool) {
	if s.cfg.CacheTTL < 0 {
		return credit.IntegrationSecrets{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.cache[ref]
	if !ok || !s.now().Before(e.expires) {
		return credit.IntegrationSecrets{}, false
	}
	return e.value, true
}

func (s *Store) generation() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gen
}

// remember caches v unless the cache was invalidated since gen was taken.
func (s *Store) remember(ref string, v credit.IntegrationSecrets, gen uint64) {
	if s.cfg.CacheTTL < 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gen != gen {
		return
	}
	s.cache[ref] = cached{value: v, expires: s.now().Add(s.cfg.CacheTTL)}
}

// invalidate drops ref's cached value; writes call it before and after
// they reach Secrets Manager, so no read overlapping them is kept.
func (s *Store) invalidate(ref string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.cache, ref)
	s.gen++
}

// fail maps an SDK error: a missing secret or version, or a secret marked
// for deletion, is secret_not_found; anything else is internal.
func (s *Store) fail(ctx context.Context, err error, ref, op string) error {
	var rnf *types.ResourceNotFoundException
	if errors.As(err, &rnf) {
		return credit.SecretNotFound().WithCause(fmt.Errorf("secretsmanager: %s %s: %w", op, ref, err))
	}
	var ire *types.InvalidRequestException
	if errors.As(err, &ire) {
		if deleted, derr := s.markedForDeletion(ctx, ref); derr == nil && deleted {
			return credit.SecretNotFound().WithCause(fmt.Errorf("secretsmanager: %s %s: %w", op, ref, err))
		}
	}
	return credit.Internal(err, "secretsmanager: %s %s", op, ref)
}

func (s *Store) markedForDeletion(ctx context.Context, ref string) (bool, error) {
	d, err := s.client.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String(ref)})
	if err != nil {
		return false, err
	}
	return d.DeletedDate != nil, nil
}

// describe returns which version holds which stages; a secret marked for
// deletion is secret_not_found.
func (s *Store) describe(ctx context.Context, ref string) (map[string][]string, error) {
	d, err := s.client.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String(ref)})
	if err != nil {
		return nil, s.fail(ctx, err, ref, "describe")
	}
	if d.DeletedDate != nil {
		return nil, credit.SecretNotFound().WithCause(fmt.Errorf("secretsmanager: %s is scheduled for deletion", ref))
	}
	return d.VersionIdsToStages, nil
}

// holder returns the version carrying stage, or "".
func holder(stages map[string][]string, stage string) string {
	for id, st := range stages {
		if slices.Contains(st, stage) {
			return id
		}
	}
	return ""
}

func isInvalidParameter(err error) bool {
	var ipe *types.InvalidParameterException
	return errors.As(err, &ipe)
}

// Create stores s as the first version of the secret Prefix+integrationID.
func (s *Store) Create(ctx context.Context, integrationID string, v credit.IntegrationSecrets) (string, error) {
	if integrationID == "" {
		return "", credit.Internal(errors.New("empty integration ID"), "secretsmanager: create")
	}
	value, err := encode(v)
	if err != nil {
		return "", err
	}
	name := s.cfg.Prefix + integrationID
	in := &sm.CreateSecretInput{
		Name:         aws.String(name),
		Description:  aws.String("Senhas do bureau da integração " + integrationID),
		SecretString: value,
	}
	if s.cfg.KMSKeyID != "" {
		in.KmsKeyId = aws.String(s.cfg.KMSKeyID)
	}
	keys := make([]string, 0, len(s.cfg.Tags))
	for k := range s.cfg.Tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		in.Tags = append(in.Tags, types.Tag{Key: aws.String(k), Value: aws.String(s.cfg.Tags[k])})
	}
	out, err := s.client.CreateSecret(ctx, in)
	if err != nil {
		var ree *types.ResourceExistsException
		var ire *types.InvalidRequestException // the name of a secret scheduled for deletion
		if errors.As(err, &ree) || errors.As(err, &ire) {
			return "", credit.SecretAlreadyExists().WithCause(fmt.Errorf("secretsmanager: create %s: %w", name, err))
		}
		return "", credit.Internal(err, "secretsmanager: create %s", name)
	}
	return aws.ToString(out.ARN), nil
}

// Current returns AWSCURRENT, from the cache while it is fresh.
func (s *Store) Current(ctx context.Context, ref string) (credit.IntegrationSecrets, error) {
	if v, ok := s.fromCache(ref); ok {
		return v, nil
	}
	return s.Reload(ctx, ref)
}

// Reload reads AWSCURRENT from Secrets Manager and refreshes the cache.
func (s *Store) Reload(ctx context.Context, ref string) (credit.IntegrationSecrets, error) {
	if ref == "" {
		return credit.IntegrationSecrets{}, credit.SecretNotFound()
	}
	gen := s.generation()
	out, err := s.client.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String(ref), VersionStage: aws.String(stageCurrent)})
	if err != nil {
		return credit.IntegrationSecrets{}, s.fail(ctx, err, ref, "get current")
	}
	v, err := decode(ref, out.SecretString)
	if err != nil {
		return credit.IntegrationSecrets{}, err
	}
	s.remember(ref, v, gen)
	return v, nil
}

// Pending reads AWSPENDING; one call while a change is in flight.
func (s *Store) Pending(ctx context.Context, ref string) (credit.IntegrationSecrets, string, bool, error) {
	if ref == "" {
		return credit.IntegrationSecrets{}, "", false, credit.SecretNotFound()
	}
	out, err := s.client.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String(ref), VersionStage: aws.String(stagePending)})
	if err != nil {
		var rnf *types.ResourceNotFoundException
		if !errors.As(err, &rnf) {
			return credit.IntegrationSecrets{}, "", false, s.fail(ctx, err, ref, "get pending")
		}
		// The same answer says "no such secret" and "no pending version".
		if _, err := s.describe(ctx, ref); err != nil {
			return credit.IntegrationSecrets{}, "", false, err
		}
		return credit.IntegrationSecrets{}, "", false, nil
	}
	v, err := decode(ref, out.SecretString)
	if err != nil {
		return credit.IntegrationSecrets{}, "", false, err
	}
	return v, aws.ToString(out.VersionId), true, nil
}

// PutPending writes a version labelled AWSPENDING, its ID derived from
// token.
func (s *Store) PutPending(ctx context.Context, ref string, v credit.IntegrationSecrets, token string) (string, error) {
	if ref == "" {
		return "", credit.SecretNotFound()
	}
	if token == "" {
		return "", credit.Internal(errors.New("empty token"), "secretsmanager: put pending %s", ref)
	}
	value, err := encode(v)
	if err != nil {
		return "", err
	}
	s.invalidate(ref)
	defer s.invalidate(ref)
	id := versionID(token)
	_, err = s.client.PutSecretValue(ctx, &sm.PutSecretValueInput{
		SecretId:           aws.String(ref),
		ClientRequestToken: aws.String(id),
		SecretString:       value,
		VersionStages:      []string{stagePending},
	})
	if err != nil {
		return "", s.fail(ctx, err, ref, "put pending")
	}
	// AWS ignores a repeated request, stages included: a retry of a change
	// that was rolled back must label its version again, one that was
	// promoted stays as it is.
	stages, err := s.describe(ctx, ref)
	if err != nil {
		return "", err
	}
	if st := stages[id]; !slices.Contains(st, stagePending) && !slices.Contains(st, stageCurrent) {
		in := &sm.UpdateSecretVersionStageInput{SecretId: aws.String(ref), VersionStage: aws.String(stagePending), MoveToVersionId: aws.String(id)}
		if old := holder(stages, stagePending); old != "" {
			in.RemoveFromVersionId = aws.String(old)
		}
		if _, err := s.client.UpdateSecretVersionStage(ctx, in); err != nil {
			return "", s.fail(ctx, err, ref, "restage pending")
		}
	}
	return id, nil
}

// attempts bounds the retries of a stage move that lost a race with
// another writer (Secrets Manager refuses a move naming a stale holder).
const attempts = 3

// Promote moves AWSCURRENT to versionID (AWS gives AWSPREVIOUS to the
// version that had it) and then takes AWSPENDING off versionID.
func (s *Store) Promote(ctx context.Context, ref, versionID string) error {
	if ref == "" || versionID == "" {
		return credit.SecretNotFound()
	}
	s.invalidate(ref)
	defer s.invalidate(ref)
	for try := 1; ; try++ {
		stages, err := s.describe(ctx, ref)
		if err != nil {
			return err
		}
		if _, labelled := stages[versionID]; !labelled {
			// A version without labels (a discarded pending one) can still
			// be promoted; one that never existed is not found.
			if _, err := s.client.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String(ref), VersionId: aws.String(versionID)}); err != nil {
				return s.fail(ctx, err, ref, "find version")
			}
		}
		if current := holder(stages, stageCurrent); current != versionID {
			in := &sm.UpdateSecretVersionStageInput{SecretId: aws.String(ref), VersionStage: aws.String(stageCurrent), MoveToVersionId: aws.String(versionID)}
			if current != "" {
				in.RemoveFromVersionId = aws.String(current)
			}
			if _, err := s.client.UpdateSecretVersionStage(ctx, in); err != nil {
				if isInvalidParameter(err) && try < attempts {
					continue
				}
				return s.fail(ctx, err, ref, "promote")
			}
		}
		if slices.Contains(stages[versionID], stagePending) {
			_, err := s.client.UpdateSecretVersionStage(ctx, &sm.UpdateSecretVersionStageInput{SecretId: aws.String(ref), VersionStage: aws.String(stagePending), RemoveFromVersionId: aws.String(versionID)})
			// Invalid parameter: someone else took the label off meanwhile.
			if err != nil && !isInvalidParameter(err) {
				return s.fail(ctx, err, ref, "end pending")
			}
		}
		return nil
	}
}

// DiscardPending takes AWSPENDING off whichever version holds it.
func (s *Store) DiscardPending(ctx context.Context, ref string) error {
	if ref == "" {
		return credit.SecretNotFound()
	}
	s.invalidate(ref)
	defer s.invalidate(ref)
	for try := 1; ; try++ {
		stages, err := s.describe(ctx, ref)
		if err != nil {
			return err
		}
		pending := holder(stages, stagePending)
		if pending == "" {
			return nil
		}
		_, err = s.client.UpdateSecretVersionStage(ctx, &sm.UpdateSecretVersionStageInput{SecretId: aws.String(ref), VersionStage: aws.String(stagePending), RemoveFromVersionId: aws.String(pending)})
		if err == nil {
			return nil
		}
		if !isInvalidParameter(err) || try == attempts {
			return s.fail(ctx, err, ref, "discard pending")
		}
	}
}

// ScheduleDeletion deletes the secret with the configured recovery window.
func (s *Store) ScheduleDeletion(ctx context.Context, ref string) error {
	if ref == "" {
		return credit.SecretNotFound()
	}
	s.invalidate(ref)
	defer s.invalidate(ref)
	_, err := s.client.DeleteSecret(ctx, &sm.DeleteSecretInput{SecretId: aws.String(ref), RecoveryWindowInDays: aws.Int64(int64(s.cfg.RecoveryWindowDays))})
	if err == nil {
		return nil
	}
	var ire *types.InvalidRequestException
	if errors.As(err, &ire) {
		if deleted, derr := s.markedForDeletion(ctx, ref); derr == nil && deleted {
			return nil
		}
	}
	return s.fail(ctx, err, ref, "schedule deletion")
}
