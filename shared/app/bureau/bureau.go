// Package bureau wires what reaches Connect SA with an integration's
// credentials, which live in Secrets Manager: the one bureau access every
// area calls the bureau through, and the integrations, passwords and
// negativations areas. Only the functions that call the bureau import it,
// so only they link the Secrets Manager client.
package bureau

import (
	"net/http"

	"creditanalysis/shared/app"
	"creditanalysis/shared/connectsa"
	"creditanalysis/shared/credit"
	"creditanalysis/shared/httpapi"
	"creditanalysis/shared/secretsmanager"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// Config is what the environment tells a function that calls the bureau.
type Config struct {
	// Secrets configures the secret store (SECRET_PREFIX, ...).
	Secrets secretsmanager.Config
	// ConnectSA configures the bureau client (CONNECTSA_*).
	ConnectSA connectsa.Config
}

// ConfigFromEnv reads Config from the environment.
func ConfigFromEnv() (Config, error) {
	var c Config
	var err error
	if c.Secrets, err = secretsmanager.ConfigFromEnv(); err != nil {
		return c, err
	}
	if c.ConnectSA, err = connectsa.ConfigFromEnv(); err != nil {
		return c, err
	}
	return c, nil
}

// SecretsManager is the Secrets Manager client on cfg.
func SecretsManager(cfg aws.Config) *sm.Client {
	return sm.NewFromConfig(cfg, func(o *sm.Options) { o.BaseEndpoint = app.ServiceEndpoint(cfg, "SECRETS_MANAGER") })
}

// HTTPClient carries the bureau calls; its transport is shared by every
// call of the cold start.
func HTTPClient() *http.Client {
	return &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
}

// App is app.App with the secret store and the bureau client.
type App struct {
	*app.App
	// Secrets holds each integration's passwords; nil when the App serves
	// only to list routes.
	Secrets credit.SecretStore
	// Bureau is the Connect SA client, in each of the port's roles.
	Bureau *connectsa.Client
	// Pepper keys the password history's hashes; read from Secrets
	// Manager on first use.
	Pepper credit.PepperSource
	// plans caches the accounts' plans for every service of this cold start.
	plans *credit.PlanCache
}

// New wires the secret store on secrets and the bureau client on hc (nil:
// a pooled client of its own). A nil secrets client serves only to list
// routes.
func New(a *app.App, cfg Config, secrets *sm.Client, hc *http.Client) *App {
	if cfg.ConnectSA.Logger == nil {
		// The bureau's call lines and metrics go where the app's do.
		cfg.ConnectSA.Logger = a.Log
	}
	b := &App{App: a, Bureau: connectsa.New(cfg.ConnectSA, hc), plans: &credit.PlanCache{}}
	if secrets != nil {
		b.Secrets = secretsmanager.New(secrets, cfg.Secrets)
		b.Pepper = secretsmanager.NewPepper(secrets, cfg.Secrets.PepperSecret)
	}
	return b
}

// Access is how every area reaches the bureau with an integration's
// credentials; the password service's Recover settles a change left half
// done when the bureau refuses them.
func (b *App) Access() *credit.BureauAccess {
	return &credit.BureauAccess{
		Secrets: b.Secrets, Consultation: b.Bureau, Registry: b.Bureau, Accounts: b.Bureau,
		Recovery: b.Passwords(), Log: b.Log,
	}
}

// Passwords is the password-change service.
func (b *App) Passwords() *credit.PasswordService {
	return &credit.PasswordService{
		Integrations: b.Store, Store: b.Store, Secrets: b.Secrets, Bureau: b.Bureau,
		Pepper: b.Pepper, Now: b.Now, NewID: b.NewID, Log: b.Log,
	}
}

// Integrations is the integrations service, which other areas use to find a
// branch's integration and its credentials.
func (b *App) Integrations() *credit.IntegrationService {
	return &credit.IntegrationService{
		Store: b.Store, Secrets: b.Secrets, Bureau: b.Access(),
		Offered: b.plans, Now: b.Now, NewID: b.NewID, Log: b.Log,
	}
}

// Negativations is the negativation service: the HTTP area's, and the one
// the billing rule includes, removes and syncs through (Origin automatic,
// with its run id), so both obey the same rules and the same per-invoice
// idempotency.
func (b *App) Negativations() *credit.NegativationService {
	return &credit.NegativationService{
		Store: b.Store, Parties: b.Store, Parameters: b.Store, Integrations: b.Store, Bureau: b.Access(),
		Now: b.Now, NewID: b.NewID, Log: b.Log,
	}
}

// IntegrationsHandler is the integrations area.
func (b *App) IntegrationsHandler() *httpapi.IntegrationsHandler {
	return &httpapi.IntegrationsHandler{Service: b.Integrations()}
}

// PasswordsHandler is the password-changes area.
func (b *App) PasswordsHandler() *httpapi.PasswordsHandler {
	return &httpapi.PasswordsHandler{Service: b.Passwords()}
}

// NegativationsHandler is the negativations area.
func (b *App) NegativationsHandler() *httpapi.NegativationsHandler {
	return &httpapi.NegativationsHandler{Service: b.Negativations()}
}
