package secretsmanager

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"sync"

	"creditanalysis/shared/credit"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

// EnvPepperSecret names the secret holding the password pepper (its name
// or ARN); the template creates it once, with a generated value.
const EnvPepperSecret = "PASSWORD_PEPPER_SECRET"

// Pepper is credit.PepperSource on a secret: its secret string, read on
// first use and then kept for the life of the process (the pepper never
// changes: hashes keyed with another one would stop verifying). Safe for
// concurrent use.
type Pepper struct {
	client *sm.Client
	ref    string

	mu    sync.Mutex
	value []byte
}

var _ credit.PepperSource = (*Pepper)(nil)

// NewPepper reads the pepper from the secret ref (a name or ARN).
func NewPepper(client *sm.Client, ref string) *Pepper {
	return &Pepper{client: client, ref: ref}
}

// Pepper returns the pepper; a missing secret, or one shorter than
// credit.MinPepperBytes, is an internal error.
func (p *Pepper) Pepper(ctx context.Context) ([]byte, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.value != nil {
		return p.value, nil
	}
	if p.ref == "" {
		return nil, credit.Internal(credit.ErrNoPepper, "secretsmanager: %s is not set", EnvPepperSecret)
	}
	out, err := p.client.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String(p.ref)})
	if err != nil {
		return nil, credit.Internal(err, "secretsmanager: read the password pepper %s", p.ref)
	}
	v := []byte(aws.ToString(out.SecretString))
	if len(v) == 0 {
		v = out.SecretBinary
	}
	if len(v) < credit.MinPepperBytes {
		return nil, credit.Internal(credit.ErrNoPepper, "secretsmanager: the password pepper %s is too short", p.ref)
	}
	p.value = v
	return v, nil
}

// EnsurePepper creates the pepper secret name with a random value unless it
// exists, and returns its ARN: what the template's generated secret is to
// AWS, for the local stack.
func EnsurePepper(ctx context.Context, client *sm.Client, name string) (string, error) {
	d, err := client.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String(name)})
	if err == nil {
		return aws.ToString(d.ARN), nil
	}
	var rnf *types.ResourceNotFoundException
	if !errors.As(err, &rnf) {
		return "", err
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	out, err := client.CreateSecret(ctx, &sm.CreateSecretInput{
		Name: aws.String(name), SecretString: aws.String(hex.EncodeToString(raw)),
		Description: aws.String("Pepper of the password history's hashes; never change it."),
	})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.ARN), nil
}
