// Package app is the core of the composition root: the configuration every
// function reads, its JSON logger, the AWS configuration, and the table
// store, clock and id generator every area shares. It wires the areas that
// need nothing but the table: parameters (with the health check), parties
// and audit.
//
// Areas that need more wire in the packages under it, each importing only
// the SDK clients its areas use, so that a function links only what it
// uses:
//
//   - app/bureau: Secrets Manager and Connect SA, for the bureau access and
//     the integrations, passwords and negativations areas;
//   - app/consultations: S3 and the PDF renderer;
//   - app/billingrule: Lambda, for the billing rule's self-invocation;
//   - app/allareas: every area in one process, for the local runner and the
//     tests only; no function imports it.
//
// Each function's main reads as its wiring: the configuration, the clients
// it needs, its area's handler, then Lambda. The clients are built there,
// once per cold start: building one costs well under a millisecond, while
// what a cold start pays for a client is its packages' initialisers, which
// only linking less avoids.
package app

import (
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"creditanalysis/shared/credit"
	"creditanalysis/shared/dynamo"
	"creditanalysis/shared/httpapi"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/google/uuid"
)

// Config is what the environment tells every function.
type Config struct {
	// Table is the DynamoDB table (TABLE_NAME).
	Table string
	// RolesClaim names the JWT claim with the caller's roles (ROLES_CLAIM).
	RolesClaim string
	// BranchesClaim names the JWT claim listing the branches a caller is
	// kept to (BRANCHES_CLAIM; custom:branches by default).
	BranchesClaim string
	// RoleGroups says which group of that claim grants which role
	// (ROLE_GROUPS, httpapi.DefaultRoleGroupsText when empty).
	RoleGroups httpapi.RoleGroups
	// LogLevel is debug, info, warn or error (LOG_LEVEL).
	LogLevel slog.Level
	// AuditRetention is how long audit events are kept
	// (AUDIT_RETENTION_DAYS; five years by default).
	AuditRetention time.Duration
	// ReportRetention is how long a consultation's report is kept
	// (REPORT_RETENTION_DAYS; 90 days by default).
	ReportRetention time.Duration
	// SAMLocal checks bearer tokens under SAM CLI only (AWS_SAM_LOCAL,
	// SAM_LOCAL_JWT_KEY); nil in AWS.
	SAMLocal *httpapi.SAMLocalAuth
}

// DefaultReportRetentionDays matches the template's ReportRetentionDays
// default, which the report bucket's lifecycle rule also follows.
const DefaultReportRetentionDays = 90

// ConfigFromEnv reads Config from the environment.
func ConfigFromEnv() (Config, error) {
	c := Config{
		Table:           os.Getenv("TABLE_NAME"),
		RolesClaim:      os.Getenv("ROLES_CLAIM"),
		BranchesClaim:   os.Getenv("BRANCHES_CLAIM"),
		ReportRetention: DefaultReportRetentionDays * 24 * time.Hour,
	}
	if c.Table == "" {
		return c, fmt.Errorf("TABLE_NAME is not set")
	}
	if err := c.LogLevel.UnmarshalText([]byte(strings.ToUpper(envOr("LOG_LEVEL", "INFO")))); err != nil {
		return c, fmt.Errorf("LOG_LEVEL: %w", err)
	}
	if v := os.Getenv("AUDIT_RETENTION_DAYS"); v != "" {
		days, err := strconv.Atoi(v)
		if err != nil || days < 1 {
			return c, fmt.Errorf("AUDIT_RETENTION_DAYS: %q is not a positive number of days", v)
		}
		c.AuditRetention = time.Duration(days) * 24 * time.Hour
	}
	if v := os.Getenv("REPORT_RETENTION_DAYS"); v != "" {
		days, err := strconv.Atoi(v)
		if err != nil || days < 1 {
			return c, fmt.Errorf("REPORT_RETENTION_DAYS: %q is not a positive number of days", v)
		}
		c.ReportRetention = time.Duration(days) * 24 * time.Hour
	}
	var err error
	if c.RoleGroups, err = httpapi.ParseRoleGroups(os.Getenv("ROLE_GROUPS")); err != nil {
		return c, err
	}
	if c.SAMLocal, err = httpapi.SAMLocalAuthFromEnv(); err != nil {
		return c, err
	}
	return c, nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// NewLogger is the JSON logger every function writes with; each line also
// carries what the context names (credit.WithLogAttrs: the request, the
// billing run).
func NewLogger(level slog.Level) *slog.Logger {
	return slog.New(credit.NewLogHandler(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: level})))
}

// AWSConfig is the AWS configuration every client is built on: the region
// and the credentials Lambda puts in a function's environment (AWS_REGION,
// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), and the
// endpoint variables of local runs (AWS_ENDPOINT_URL, and
// AWS_ENDPOINT_URL_<SERVICE> through ServiceEndpoint). It reads nothing
// else: the SDK's shared-configuration loader would link the clients of
// every credential source (STS, SSO, IMDS, ...) into each function and pay
// their package initialisers at every cold start, for sources Lambda never
// uses.
func AWSConfig() (aws.Config, error) {
	region := envOr("AWS_REGION", os.Getenv("AWS_DEFAULT_REGION"))
	if region == "" {
		return aws.Config{}, fmt.Errorf("AWS_REGION is not set")
	}
	id, secret := os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY")
	if id == "" || secret == "" {
		return aws.Config{}, fmt.Errorf("AWS credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set")
	}
	cfg := aws.Config{
		Region:      region,
		Credentials: aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(id, secret, os.Getenv("AWS_SESSION_TOKEN"))),
		// One connection pool for every client, as the SDK's loader does.
		HTTPClient: awshttp.NewBuildableClient(),
	}
	if v := os.Getenv("AWS_ENDPOINT_URL"); v != "" {
		cfg.BaseEndpoint = aws.String(v)
	}
	return cfg, nil
}

// ServiceEndpoint is the endpoint a service's client is pointed at, by the
// SDK's convention: AWS_ENDPOINT_URL_<SERVICE> (service as the SDK names it,
// upper case, spaces as underscores: DYNAMODB, SECRETS_MANAGER), else
// cfg's. An empty variable, as the template declares them in AWS, leaves
// the client on AWS's own endpoint.
func ServiceEndpoint(cfg aws.Config, service string) *string {
	if v := os.Getenv("AWS_ENDPOINT_URL_" + service); v != "" {
		return aws.String(v)
	}
	return cfg.BaseEndpoint
}

// DynamoDB is the DynamoDB client on cfg, which every function uses.
func DynamoDB(cfg aws.Config) *dynamodb.Client {
	return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = ServiceEndpoint(cfg, "DYNAMODB") })
}

// Environment is what a function's main starts from.
type Environment struct {
	Config Config
	// Log is the function's logger, also slog's default.
	Log *slog.Logger
	// AWS is the configuration every SDK client of the function is built on.
	AWS aws.Config
}

// MustLoad reads the configuration, builds the logger and loads the AWS
// configuration. It exits on an error, which no retry would fix.
func MustLoad() Environment {
	cfg, err := ConfigFromEnv()
	log := NewLogger(cfg.LogLevel)
	slog.SetDefault(log)
	if err != nil {
		exit("configuration", err)
	}
	awsCfg, err := AWSConfig()
	if err != nil {
		exit("aws configuration", err)
	}
	return Environment{Config: cfg, Log: log, AWS: awsCfg}
}

// Must is v, or an exit when err says the function is misconfigured: for
// the configuration an area reads on top of Config, in a function's main
// after MustLoad.
func Must[T any](v T, err error) T {
	if err != nil {
		exit("configuration", err)
	}
	return v
}

func exit(what string, err error) {
	slog.Error(what, slog.String("error", err.Error()))
	os.Exit(1)
}

// App is what every area shares: the configuration, the logger, the table
// store, and the one clock and id generator of every service.
type App struct {
	Config Config
	Log    *slog.Logger
	Store  *dynamo.Store
	Now    credit.Clock
	NewID  func() string
}

// New wires the table store on db. A nil db serves only to list routes
// (the template's and the API document's tests).
func New(cfg Config, db *dynamodb.Client, log *slog.Logger) *App {
	if log == nil {
		log = slog.Default()
	}
	return &App{
		Config: cfg,
		Log:    log,
		Store:  &dynamo.Store{Client: db, Table: cfg.Table, AuditRetention: cfg.AuditRetention},
		Now:    time.Now,
		NewID:  func() string { return uuid.Must(uuid.NewV7()).String() },
	}
}

// Server serves the given areas, each request checked against the role
// matrix and audited.
func (a *App) Server(areas ...httpapi.Area) *httpapi.Server {
	return httpapi.NewServer(httpapi.Config{
		Logger: a.Log, RolesClaim: a.Config.RolesClaim, RoleGroups: a.Config.RoleGroups, BranchesClaim: a.Config.BranchesClaim,
		Audit: a.Store, Now: a.Now, NewID: a.NewID, SAMLocal: a.Config.SAMLocal,
		// Only the routes in httpapi.Idempotent use it.
		Idempotency: a.Store,
	}, areas...)
}

// ParametersHandler is the parameters area: the master switch, the
// repeat-consultation interval and the health check.
func (a *App) ParametersHandler() *httpapi.ParametersHandler {
	return &httpapi.ParametersHandler{Service: &credit.ParametersService{Store: a.Store}}
}

// PartiesHandler is the parties area: what the ERP pushes (customers,
// leads, prospects, customers' invoices).
func (a *App) PartiesHandler() *httpapi.PartiesHandler {
	return &httpapi.PartiesHandler{Service: &credit.PartyService{Store: a.Store, Now: a.Now}}
}

// AuditHandler is the audit trail every other area appends to.
func (a *App) AuditHandler() *httpapi.AuditHandler {
	return &httpapi.AuditHandler{Log: a.Store}
}
