// Package allareas wires every function's area in one process, on the same
// wiring the functions use: for the local runner, the end-to-end tests and
// the template's tests, which need them all. No function imports it (a
// test of the module holds each function to the packages it may link).
package allareas

import (
	"log/slog"
	"net/http"
	"slices"

	"creditanalysis/shared/app"
	"creditanalysis/shared/app/billingrule"
	"creditanalysis/shared/app/bucket"
	"creditanalysis/shared/app/bureau"
	"creditanalysis/shared/app/consultations"
	"creditanalysis/shared/app/reports"
	"creditanalysis/shared/awslambda"
	"creditanalysis/shared/credit"
	"creditanalysis/shared/httpapi"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// Config is every function's configuration together.
type Config struct {
	App         app.Config
	Bureau      bureau.Config
	Reports     bucket.Config
	BillingRule billingrule.Config
}

// ConfigFromEnv reads every function's configuration from the environment.
func ConfigFromEnv() (Config, error) {
	var c Config
	var err error
	if c.App, err = app.ConfigFromEnv(); err != nil {
		return c, err
	}
	if c.Bureau, err = bureau.ConfigFromEnv(); err != nil {
		return c, err
	}
	c.Reports = bucket.ConfigFromEnv()
	if c.BillingRule, err = billingrule.ConfigFromEnv(); err != nil {
		return c, err
	}
	return c, nil
}

// Clients are every function's clients together.
type Clients struct {
	DynamoDB       *dynamodb.Client
	SecretsManager *sm.Client
	S3             *s3.Client
	// Lambda hands the billing rule's manual runs over when
	// BillingRule.FunctionName is set.
	Lambda awslambda.AsyncInvoker
	// HTTP carries the bureau calls.
	HTTP *http.Client
}

// AWSClients builds the clients from the environment, as the functions do.
func AWSClients(cfg Config) (Clients, error) {
	aws, err := app.AWSConfig()
	if err != nil {
		return Clients{}, err
	}
	return Clients{
		DynamoDB:       app.DynamoDB(aws),
		SecretsManager: bureau.SecretsManager(aws),
		S3:             bucket.S3(aws, cfg.Reports),
		Lambda:         billingrule.Lambda(aws),
		HTTP:           bureau.HTTPClient(),
	}, nil
}

// Product is every area wired on one set of clients.
type Product struct {
	*bureau.App
	cfg     Config
	clients Clients
}

// New wires every area. Zero clients serve only to list routes.
func New(cfg Config, c Clients, log *slog.Logger) *Product {
	a := app.New(cfg.App, c.DynamoDB, log)
	return &Product{App: bureau.New(a, cfg.Bureau, c.SecretsManager, c.HTTP), cfg: cfg, clients: c}
}

// Consultations is the consultations function's service.
func (p *Product) Consultations() *credit.ConsultationService {
	return consultations.Service(p.App, p.cfg.Reports, p.clients.S3)
}

// ConsultationsHandler is the consultations function's area.
func (p *Product) ConsultationsHandler() *httpapi.ConsultationsHandler {
	return consultations.Handler(p.App, p.cfg.Reports, p.clients.S3)
}

// ReportsHandler is the reports function's area.
func (p *Product) ReportsHandler() *httpapi.ReportsHandler {
	return reports.Handler(p.App.App, p.cfg.Reports, p.clients.S3)
}

// BillingRule is the billing-rule function's rule with tuning rule,
// logging to log.
func (p *Product) BillingRule(rule credit.BillingRuleConfig, log *slog.Logger) *credit.BillingRule {
	cfg := p.cfg.BillingRule
	cfg.Rule = rule
	return billingrule.Rule(p.App, cfg, p.clients.Lambda, log)
}

// Function is one function's area under the function's name: its
// directory under functions/ and the name the template's tests map routes
// by.
type Function struct {
	Name string
	Area httpapi.Area
}

// Functions lists every function's area, sorted by name.
func (p *Product) Functions() []Function {
	return []Function{
		{"audit", p.AuditHandler()},
		{"billing-rule", billingrule.Handler(p.App, p.cfg.BillingRule, p.clients.Lambda)},
		{"consultations", p.ConsultationsHandler()},
		{"integrations", p.IntegrationsHandler()},
		{"negativations", p.NegativationsHandler()},
		{"parameters", p.ParametersHandler()},
		{"parties", p.PartiesHandler()},
		{"passwords", p.PasswordsHandler()},
		{"reports", p.ReportsHandler()},
	}
}

// Background are the functions that serve no route: the event publisher,
// which reads the table's stream.
var Background = []string{"event-publisher"}

// Names lists every function's name, sorted: those with an area and the
// background ones.
func Names() []string {
	names := slices.Clone(Background)
	for _, fn := range New(Config{}, Clients{}, slog.New(slog.DiscardHandler)).Functions() {
		names = append(names, fn.Name)
	}
	slices.Sort(names)
	return names
}
