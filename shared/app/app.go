// Package app is the composition root: it reads the configuration, builds
// the AWS clients once per cold start, and wires adapters into the domain's
// services and the services into each area's HTTP handler. Every function's
// main and the local runner use it, so they cannot be wired differently.
//
// Each area lives in its own file and registers itself with registerArea
// under its function's name (the directory under functions/ and the name the
// template's tests map routes by).
package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"creditanalysis/shared/connectsa"
	"creditanalysis/shared/credit"
	"creditanalysis/shared/dynamo"
	"creditanalysis/shared/httpapi"
	"creditanalysis/shared/secretsmanager"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/google/uuid"
)

// Config is what the environment tells a function.
type Config struct {
	// Table is the DynamoDB table (TABLE_NAME).
	Table string
	// RolesClaim names the JWT claim with the caller's roles (ROLES_CLAIM).
	RolesClaim string
	// LogLevel is debug, info, warn or error (LOG_LEVEL).
	LogLevel slog.Level
	// ReportBucket keeps the report PDFs (REPORT_BUCKET).
	ReportBucket string
	// AuditRetention is how long audit events are kept
	// (AUDIT_RETENTION_DAYS; five years by default).
	AuditRetention time.Duration
	// ReportRetention is how long a consultation's report is kept
	// (REPORT_RETENTION_DAYS; 90 days by default).
	ReportRetention time.Duration
	// Secrets configures the secret store (SECRET_PREFIX, ...).
	Secrets secretsmanager.Config
	// ConnectSA configures the bureau client (CONNECTSA_*).
	ConnectSA connectsa.Config
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
		ReportBucket:    os.Getenv("REPORT_BUCKET"),
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
	if c.Secrets, err = secretsmanager.ConfigFromEnv(); err != nil {
		return c, err
	}
	if c.ConnectSA, err = connectsa.ConfigFromEnv(); err != nil {
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

// Clients are the SDK clients, built once per cold start.
type Clients struct {
	DynamoDB       *dynamodb.Client
	SecretsManager *sm.Client
	S3             *s3.Client
	// HTTP carries the bureau calls; its transport is shared by every call.
	HTTP *http.Client
}

// AWSClients builds the clients from the default AWS configuration chain. The
// SDK's AWS_ENDPOINT_URL_<SERVICE> variables point them at local stand-ins;
// S3_FORCE_PATH_STYLE=true makes S3 use path-style addressing.
func AWSClients(ctx context.Context) (Clients, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return Clients{}, fmt.Errorf("load AWS config: %w", err)
	}
	pathStyle := os.Getenv("S3_FORCE_PATH_STYLE") == "true"
	return Clients{
		DynamoDB:       dynamodb.NewFromConfig(cfg),
		SecretsManager: sm.NewFromConfig(cfg),
		S3:             s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = pathStyle }),
		HTTP:           &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()},
	}, nil
}

// NewLogger is the JSON logger every function writes with; each line also
// carries what the context names (credit.WithLogAttrs: the request, the
// billing run).
func NewLogger(level slog.Level) *slog.Logger {
	return slog.New(credit.NewLogHandler(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: level})))
}

// App holds the adapters every area shares.
type App struct {
	cfg     Config
	log     *slog.Logger
	clients Clients
	store   *dynamo.Store
	secrets credit.SecretStore
	bureau  credit.Bureau
	// plans caches the accounts' plans for every service of this cold start.
	plans *credit.PlanCache
	// now and newID are the clock and the id generator of every service.
	now   credit.Clock
	newID func() string
}

// New wires the adapters on the given clients.
func New(cfg Config, clients Clients, log *slog.Logger) *App {
	if log == nil {
		log = slog.Default()
	}
	if clients.HTTP == nil {
		clients.HTTP = &http.Client{}
	}
	a := &App{
		cfg:     cfg,
		log:     log,
		clients: clients,
		store:   &dynamo.Store{Client: clients.DynamoDB, Table: cfg.Table, AuditRetention: cfg.AuditRetention},
		bureau:  connectsa.New(cfg.ConnectSA, clients.HTTP),
		plans:   &credit.PlanCache{},
		now:     time.Now,
		newID:   func() string { return uuid.Must(uuid.NewV7()).String() },
	}
	if clients.SecretsManager != nil {
		a.secrets = secretsmanager.New(clients.SecretsManager, cfg.Secrets)
	}
	return a
}

var areaBuilders = map[string]func(*App) httpapi.Area{}

// registerArea adds an area under its function's name; each area's file
// calls it from init.
func registerArea(name string, build func(*App) httpapi.Area) {
	if _, dup := areaBuilders[name]; dup {
		panic("app: area registered twice: " + name)
	}
	areaBuilders[name] = build
}

// AreaNames lists the registered areas, sorted.
func AreaNames() []string {
	names := make([]string, 0, len(areaBuilders))
	for n := range areaBuilders {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Area builds one area by function name.
func (a *App) Area(name string) (httpapi.Area, bool) {
	b, ok := areaBuilders[name]
	if !ok {
		return nil, false
	}
	return b(a), true
}

// Areas returns every area by function name, as the template names them.
func (a *App) Areas() map[string]httpapi.Area {
	out := make(map[string]httpapi.Area, len(areaBuilders))
	for name, b := range areaBuilders {
		out[name] = b(a)
	}
	return out
}

// Server serves the given areas.
func (a *App) Server(areas ...httpapi.Area) *httpapi.Server {
	return httpapi.NewServer(httpapi.Config{
		Logger: a.log, RolesClaim: a.cfg.RolesClaim,
		Audit: a.store, Now: a.now, NewID: a.newID, SAMLocal: a.cfg.SAMLocal,
		// Only the routes in httpapi.Idempotent use it.
		Idempotency: a.store,
	}, areas...)
}

// Main is the whole body of an HTTP function's main: configure, wire, serve
// the named area from Lambda.
func Main(area string) {
	a := MustFromEnvironment()
	ar, ok := a.Area(area)
	if !ok {
		a.log.Error("unknown area", slog.String("area", area))
		os.Exit(1)
	}
	httpapi.StartLambda(a.Server(ar))
}

// MustFromEnvironment builds the App a Lambda function runs: configuration
// from the environment, clients from the default AWS chain. It exits on a
// configuration error, which no retry would fix.
func MustFromEnvironment() *App {
	cfg, err := ConfigFromEnv()
	log := NewLogger(cfg.LogLevel)
	slog.SetDefault(log)
	if err != nil {
		log.Error("configuration", slog.String("error", err.Error()))
		os.Exit(1)
	}
	clients, err := AWSClients(context.Background())
	if err != nil {
		log.Error("aws clients", slog.String("error", err.Error()))
		os.Exit(1)
	}
	return New(cfg, clients, log)
}
