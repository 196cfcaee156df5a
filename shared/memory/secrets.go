package memory

import (
	"context"
	"errors"
	"slices"
	"sync"

	"creditanalysis/shared/credit"

	"github.com/google/uuid"
)

// Secrets is the in-memory credit.SecretStore: versions carry the same
// current / pending / previous stages as in Secrets Manager. It has no cache,
// so Current and Reload are the same.
type Secrets struct {
	mu      sync.Mutex
	secrets map[string]*fakeSecret // by ref
	names   map[string]string      // integration ID -> ref, kept after deletion
	inject  func(op string) error
}

type fakeSecret struct {
	deleted  bool
	versions map[string]*fakeVersion // by version ID
}

type fakeVersion struct {
	value  credit.IntegrationSecrets
	stages []string
}

const (
	stageCurrent  = "AWSCURRENT"
	stagePending  = "AWSPENDING"
	stagePrevious = "AWSPREVIOUS"
)

// NewSecrets returns an empty store.
func NewSecrets() *Secrets {
	return &Secrets{secrets: map[string]*fakeSecret{}, names: map[string]string{}}
}

var _ credit.SecretStore = (*Secrets)(nil)

// Inject makes every later call first ask hook, with the method's name
// ("Create", "Current", "Reload", "Pending", "PutPending", "Promote",
// "DiscardPending", "ScheduleDeletion"); a non-nil answer fails the call
// (as credit.Internal unless it is a *credit.Error) without changing
// anything. A nil hook removes it.
func (s *Secrets) Inject(hook func(op string) error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inject = hook
}

// begin locks s and runs the injected hook.
func (s *Secrets) begin(op string) error {
	s.mu.Lock()
	if s.inject == nil {
		return nil
	}
	if err := s.inject(op); err != nil {
		s.mu.Unlock()
		if _, ok := credit.AsError(err); ok {
			return err
		}
		return credit.Internal(err, "memory secrets: %s", op)
	}
	return nil
}

func (s *Secrets) live(ref string) (*fakeSecret, error) {
	sec, ok := s.secrets[ref]
	if !ok || sec.deleted {
		return nil, credit.SecretNotFound()
	}
	return sec, nil
}

// withStage returns the ID of the version holding stage, if any.
func (sec *fakeSecret) withStage(stage string) (string, *fakeVersion) {
	for id, v := range sec.versions {
		if slices.Contains(v.stages, stage) {
			return id, v
		}
	}
	return "", nil
}

// move attaches stage to versionID and takes it off every other version.
func (sec *fakeSecret) move(stage, versionID string) {
	for id, v := range sec.versions {
		if id != versionID {
			v.stages = slices.DeleteFunc(v.stages, func(s string) bool { return s == stage })
		}
	}
	if v := sec.versions[versionID]; !slices.Contains(v.stages, stage) {
		v.stages = append(v.stages, stage)
	}
}

func (s *Secrets) Create(ctx context.Context, integrationID string, v credit.IntegrationSecrets) (string, error) {
	if err := s.begin("Create"); err != nil {
		return "", err
	}
	defer s.mu.Unlock()
	if _, taken := s.names[integrationID]; taken {
		return "", credit.SecretAlreadyExists()
	}
	ref := "memory:secret:" + integrationID + "-" + uuid.NewString()[:6]
	s.names[integrationID] = ref
	s.secrets[ref] = &fakeSecret{versions: map[string]*fakeVersion{
		uuid.NewString(): {value: v, stages: []string{stageCurrent}},
	}}
	return ref, nil
}

func (s *Secrets) Current(ctx context.Context, ref string) (credit.IntegrationSecrets, error) {
	return s.current("Current", ref)
}

func (s *Secrets) Reload(ctx context.Context, ref string) (credit.IntegrationSecrets, error) {
	return s.current("Reload", ref)
}

func (s *Secrets) current(op, ref string) (credit.IntegrationSecrets, error) {
	if err := s.begin(op); err != nil {
		return credit.IntegrationSecrets{}, err
	}
	defer s.mu.Unlock()
	sec, err := s.live(ref)
	if err != nil {
		return credit.IntegrationSecrets{}, err
	}
	_, v := sec.withStage(stageCurrent)
	return v.value, nil
}

func (s *Secrets) Pending(ctx context.Context, ref string) (credit.IntegrationSecrets, string, bool, error) {
	if err := s.begin("Pending"); err != nil {
		return credit.IntegrationSecrets{}, "", false, err
	}
	defer s.mu.Unlock()
	sec, err := s.live(ref)
	if err != nil {
		return credit.IntegrationSecrets{}, "", false, err
	}
	id, v := sec.withStage(stagePending)
	if v == nil {
		return credit.IntegrationSecrets{}, "", false, nil
	}
	return v.value, id, true, nil
}

func (s *Secrets) PutPending(ctx context.Context, ref string, v credit.IntegrationSecrets, token string) (string, error) {
	if err := s.begin("PutPending"); err != nil {
		return "", err
	}
	defer s.mu.Unlock()
	sec, err := s.live(ref)
	if err != nil {
		return "", err
	}
	if token == "" {
		return "", credit.Internal(errors.New("empty token"), "memory secrets: put pending")
	}
	if old, ok := sec.versions[token]; ok {
		if old.value != v {
			return "", credit.Internal(errors.New("token already used for another value"), "memory secrets: put pending")
		}
		// A retry: re-stage a discarded version, leave a promoted one alone.
		if !slices.Contains(old.stages, stageCurrent) {
			sec.move(stagePending, token)
		}
		return token, nil
	}
	sec.versions[token] = &fakeVersion{value: v}
	sec.move(stagePending, token)
	return token, nil
}

func (s *Secrets) Promote(ctx context.Context, ref, versionID string) error {
	if err := s.begin("Promote"); err != nil {
		return err
	}
	defer s.mu.Unlock()
	sec, err := s.live(ref)
	if err != nil {
		return err
	}
	v, ok := sec.versions[versionID]
	if !ok {
		return credit.SecretNotFound()
	}
	if !slices.Contains(v.stages, stageCurrent) {
		oldID, _ := sec.withStage(stageCurrent)
		sec.move(stageCurrent, versionID)
		sec.move(stagePrevious, oldID)
	}
	v.stages = slices.DeleteFunc(v.stages, func(s string) bool { return s == stagePending })
	return nil
}

func (s *Secrets) DiscardPending(ctx context.Context, ref string) error {
	if err := s.begin("DiscardPending"); err != nil {
		return err
	}
	defer s.mu.Unlock()
	sec, err := s.live(ref)
	if err != nil {
		return err
	}
	if _, v := sec.withStage(stagePending); v != nil {
		v.stages = slices.DeleteFunc(v.stages, func(s string) bool { return s == stagePending })
	}
	return nil
}

func (s *Secrets) ScheduleDeletion(ctx context.Context, ref string) error {
	if err := s.begin("ScheduleDeletion"); err != nil {
		return err
	}
	defer s.mu.Unlock()
	sec, ok := s.secrets[ref]
	if !ok {
		return credit.SecretNotFound()
	}
	sec.deleted = true
	return nil
}

// Pepper is a fixed password pepper (credit.PepperSource).
type Pepper []byte

func (p Pepper) Pepper(context.Context) ([]byte, error) { return p, nil }
