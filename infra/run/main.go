// Command run is the local runner behind `make run`: it starts the local
// stack under LOCAL_DATA_DIR (default .local/), wires every area on the
// wiring the functions use (shared/app/allareas), and serves every
// function's routes through the local API Gateway on http://127.0.0.1:$PORT (default 3000,
// the port `sam local start-api` uses), with the API reference on /docs. SIGINT or SIGTERM
// stops everything it started; so does DynamoDB Local ending on its own
// (exit status 1, the reason logged).
//
// Environment: PORT, LOCAL_DATA_DIR, LOG_LEVEL, ROLES_CLAIM, ROLE_GROUPS,
// CORS_ALLOWED_ORIGINS (the comma-separated browser origins allowed to call
// the API, "*" for any; by default any http://localhost:<port> and
// http://127.0.0.1:<port>), and
// DYNAMODB_PORT, S3_PORT, SECRETSMANAGER_PORT, CONNECTSA_PORT,
// EVENTBRIDGE_PORT for the stand-ins (default PORT+1 to PORT+5, so that
// they stay put across restarts; 0 takes any free port).
//
// The domain events go where they go in AWS, through the same code: the
// runner polls DynamoDB Local's stream of the table and hands each batch to
// the event publisher's Lambda entry point, which puts the events on the
// EventBridge stand-in; it appends each to $LOCAL_DATA_DIR/events.jsonl.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"creditanalysis/infra/apigateway"
	"creditanalysis/infra/checkout"
	"creditanalysis/infra/localauth"
	"creditanalysis/infra/stack"
	"creditanalysis/infra/swaggerui"
	"creditanalysis/shared/app"
	"creditanalysis/shared/app/allareas"
	"creditanalysis/shared/app/events"
)

func main() {
	log := app.NewLogger(slog.LevelInfo)
	if err := run(log); err != nil {
		log.Error("local runner", slog.String("error", err.Error()))
		os.Exit(1)
	}
}

func run(log *slog.Logger) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	// Resolved once: the stand-ins, DynamoDB Local's Java (which runs in
	// its jar's folder) and sam-env.json all need the same absolute path.
	dataDir, err := filepath.Abs(envOr("LOCAL_DATA_DIR", ".local"))
	if err != nil {
		return err
	}
	port, err := portEnv("PORT", 3000)
	if err != nil {
		return err
	}
	ports, err := standInPorts(port)
	if err != nil {
		return err
	}

	// Take the API port first, and check the stand-ins': a busy port fails
	// before Java starts.
	listener, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return err
	}
	defer listener.Close()
	port = listener.Addr().(*net.TCPAddr).Port
	if err := checkFree(ports); err != nil {
		return err
	}

	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return err
	}
	standInLog, err := os.OpenFile(filepath.Join(dataDir, "stack.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer standInLog.Close()

	st, err := stack.Start(ctx, stack.Options{DataDir: dataDir, Ports: ports, Log: standInLog})
	if err != nil {
		return err
	}
	defer st.Stop()

	// The functions read their configuration and build their clients from
	// the environment; the runner goes through the same code with the
	// stack's environment.
	env := st.Env()
	// A developer's own profile or session must not leak into the local
	// clients' credential chain.
	for _, k := range []string{"AWS_PROFILE", "AWS_SESSION_TOKEN"} {
		_ = os.Unsetenv(k)
	}
	for k, v := range env {
		if err := os.Setenv(k, v); err != nil {
			return err
		}
	}
	cfg, err := allareas.ConfigFromEnv()
	if err != nil {
		return err
	}
	log = app.NewLogger(cfg.App.LogLevel)
	slog.SetDefault(log)
	clients, err := allareas.AWSClients(cfg)
	if err != nil {
		return err
	}
	product := allareas.New(cfg, clients, log)

	awsCfg, err := app.AWSConfig()
	if err != nil {
		return err
	}
	eventsCfg, err := events.ConfigFromEnv()
	if err != nil {
		return err
	}
	publisher := events.Handler(eventsCfg, events.EventBridge(awsCfg), log)
	if err := st.StartStreamPoller(ctx, publisher.Invoke, log); err != nil {
		return err
	}

	key, err := localauth.LoadKey(dataDir)
	if err != nil {
		return err
	}
	gw := apigateway.New(key, log)
	if gw.Origins, err = apigateway.ParseOrigins(os.Getenv("CORS_ALLOWED_ORIGINS")); err != nil {
		return fmt.Errorf("CORS_ALLOWED_ORIGINS: %w", err)
	}
	var names []string
	for _, fn := range product.Functions() {
		// One server per area, as each area is its own Lambda in AWS.
		gw.Area(fn.Area, product.Server(fn.Area))
		names = append(names, fn.Name)
	}

	samEnv := filepath.Join(dataDir, "sam-env.json")
	if err := writeSAMEnv(samEnv, names, env, key); err != nil {
		return err
	}
	log.Info("local stack ready",
		slog.String("dynamodb", st.DynamoDBEndpoint),
		slog.String("s3", st.S3Endpoint),
		slog.String("secretsManager", st.SecretsManagerEndpoint),
		slog.String("connectSA", st.ConnectSAEndpoint),
		slog.String("eventBridge", st.EventBridgeEndpoint),
		slog.String("events", st.Events.Path()),
		slog.String("dataDir", dataDir),
		slog.String("samEnvVars", samEnv),
		slog.Any("functions", names),
		slog.Any("routes", gw.Routes()),
		slog.String("hint", "make token ROLE=admin prints a bearer token; sam build && sam local start-api --port 3100 --docker-network host --env-vars "+samEnv+" uses these stand-ins"))

	// The API reference (GET /docs) and its document (GET /openapi.yaml),
	// both without a token; `make deps` fetched the viewer.
	root, err := checkout.Root()
	if err != nil {
		return err
	}
	viewer, err := swaggerui.Ensure(ctx, filepath.Join(root, ".cache"))
	if err != nil {
		log.Warn("API reference viewer unavailable; run make deps", slog.String("error", err.Error()))
	}
	handler := swaggerui.Handler(viewer, filepath.Join(root, "openapi.yaml"), gw)

	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(listener) }()
	log.Info(fmt.Sprintf("listening on http://127.0.0.1:%d", port), slog.String("docs", fmt.Sprintf("http://127.0.0.1:%d/docs", port)))

	var lost error
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	case lost = <-st.Lost():
		// Every call would fail from here on: stop, and say why.
		log.Error("a stand-in stopped; shutting down", slog.String("error", lost.Error()))
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Warn("http shutdown", slog.String("error", err.Error()))
	}
	st.Stop()
	log.Info("stopped")
	return lost
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func portEnv(name string, def int) (int, error) {
	v := os.Getenv(name)
	if v == "" {
		return def, nil
	}
	p, err := strconv.Atoi(v)
	if err != nil || p < 0 || p > 65535 {
		return 0, fmt.Errorf("%s=%q is not a port", name, v)
	}
	return p, nil
}
