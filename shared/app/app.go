// Package app is the composition root: it reads the configuration, builds
// the AWS clients once per cold start, and wires adapters into the domain's
// services and the services into each area's HTTP handler. Every function's
// main and the local runner use it, so they cannot be wired differently.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"creditanalysis/shared/credit"
	"creditanalysis/shared/dynamo"
	"creditanalysis/shared/httpapi"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// Config is what the environment tells a function.
type Config struct {
	// Table is the DynamoDB table (TABLE_NAME).
	Table string
	// RolesClaim names the JWT claim with the caller's roles (ROLES_CLAIM).
	RolesClaim string
	// LogLevel is debug, info, warn or error (LOG_LEVEL).
	LogLevel slog.Level
}

// ConfigFromEnv reads Config from the environment.
func ConfigFromEnv() (Config, error) {
	c := Config{
		Table:      os.Getenv("TABLE_NAME"),
		RolesClaim: os.Getenv("ROLES_CLAIM"),
	}
	if c.Table == "" {
		return c, fmt.Errorf("TABLE_NAME is not set")
	}
	if err := c.LogLevel.UnmarshalText([]byte(strings.ToUpper(envOr("LOG_LEVEL", "INFO")))); err != nil {
		return c, fmt.Errorf("LOG_LEVEL: %w", err)
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
	DynamoDB *dynamodb.Client
}

// AWSClients builds the clients from the default AWS configuration chain. The
// SDK's AWS_ENDPOINT_URL_<SERVICE> variables point them at local stand-ins.
func AWSClients(ctx context.Context) (Clients, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return Clients{}, fmt.Errorf("load AWS config: %w", err)
	}
	return Clients{DynamoDB: dynamodb.NewFromConfig(cfg)}, nil
}

// NewLogger is the JSON logger every function writes with.
func NewLogger(level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: level}))
}

// App holds the wired services.
type App struct {
	cfg        Config
	log        *slog.Logger
	store      *dynamo.Store
	parameters *credit.ParametersService
}

// New wires the services on the given clients.
func New(cfg Config, clients Clients, log *slog.Logger) *App {
	store := dynamo.New(clients.DynamoDB, cfg.Table)
	return &App{
		cfg:        cfg,
		log:        log,
		store:      store,
		parameters: &credit.ParametersService{Store: store},
	}
}

// Parameters is the parameters area (with the health check).
func (a *App) Parameters() httpapi.Area {
	return &httpapi.ParametersHandler{Service: a.parameters}
}

// Areas returns every area by function name, as the template names them.
func (a *App) Areas() map[string]httpapi.Area {
	return map[string]httpapi.Area{
		"parameters": a.Parameters(),
	}
}

// Server serves the given areas.
func (a *App) Server(areas ...httpapi.Area) *httpapi.Server {
	return httpapi.NewServer(httpapi.Config{Logger: a.log, RolesClaim: a.cfg.RolesClaim}, areas...)
}

// Main is the whole body of a function's main for an HTTP area: configure,
// wire, serve from Lambda.
func Main(area func(*App) httpapi.Area) {
	ctx := context.Background()
	cfg, err := ConfigFromEnv()
	log := NewLogger(cfg.LogLevel)
	if err != nil {
		log.Error("configuration", slog.String("error", err.Error()))
		os.Exit(1)
	}
	clients, err := AWSClients(ctx)
	if err != nil {
		log.Error("aws clients", slog.String("error", err.Error()))
		os.Exit(1)
	}
	slog.SetDefault(log)
	a := New(cfg, clients, log)
	httpapi.StartLambda(a.Server(area(a)))
}
