// Package stack starts the whole local AWS stand-in on loopback ports:
// DynamoDB Local (AWS's own jar) with the service's table, an in-process S3
// (gofakes3, path-style) with the report bucket, the Secrets Manager
// stand-in, the EventBridge stand-in (events appended to events.jsonl) and
// the Connect SA sandbox; and, on demand, the poller of the table's stream
// that feeds the event publisher as Lambda does in AWS. It tells a function the
// environment that points the real SDK adapters at them. The local runner,
// the end-to-end tests and `make test` use it, so they all run against the
// same stand-ins.
package stack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"creditanalysis/infra/checkout"
	"creditanalysis/infra/connectsa-sandbox/sandbox"
	"creditanalysis/infra/dynamodblocal"
	"creditanalysis/infra/eventbridgelocal"
	"creditanalysis/infra/localauth"
	"creditanalysis/infra/localaws"
	"creditanalysis/infra/secretsmanagerlocal"
	"creditanalysis/shared/app/allareas"
	"creditanalysis/shared/dynamo"
	smstore "creditanalysis/shared/secretsmanager"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3afero"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/spf13/afero"
)

// Names of the local resources, the local twins of the template's.
const (
	Table        = "creditanalysis-local"
	ReportBucket = "creditanalysis-reports-local"
	SecretPrefix = "creditanalysis/local/"
	// PepperSecret holds the password history's pepper, created with a
	// random value on the stack's first start and kept with its data, as
	// the template's generated secret is in AWS.
	PepperSecret = "creditanalysis/password-pepper"
	EventBus     = "creditanalysis-local"
)

// Ports fixes the stand-ins' loopback ports; 0 takes any free one.
type Ports struct {
	DynamoDB       int
	S3             int
	SecretsManager int
	ConnectSA      int
	EventBridge    int
}

// Options configure Start.
type Options struct {
	// DataDir keeps everything that must survive a restart: DynamoDB Local's
	// files under dynamodb/, S3 objects under s3/, secrets under
	// secretsmanager/. Required unless InMemory.
	DataDir string
	// InMemory keeps nothing: for tests.
	InMemory bool
	Ports    Ports
	// CacheDir holds downloaded tools (the DynamoDB Local jar); default
	// <module root>/.cache.
	CacheDir string
	// Log receives the stand-ins' own output (DynamoDB Local's banner);
	// nil discards it.
	Log io.Writer
	// Sandbox configures the Connect SA sandbox (latency, faults); the zero
	// value answers every call at once. Its accounts live in memory only.
	Sandbox sandbox.Config
}

// Stack is the running stand-in.
type Stack struct {
	DynamoDBEndpoint       string
	S3Endpoint             string
	SecretsManagerEndpoint string
	ConnectSAEndpoint      string
	EventBridgeEndpoint    string
	// Events is the EventBridge stand-in; Events.Path() is the file the
	// published events are appended to.
	Events *eventbridgelocal.Server
	// Sandbox is the running Connect SA sandbox, for tests that change its
	// faults with SetConfig.
	Sandbox *sandbox.Server

	dynamo   *dynamodblocal.Server
	lost     chan error
	stopping atomic.Bool
	servers  []*http.Server
	lock     *os.File
	tempDirs []string
	stopOnce sync.Once
}

// Start brings every stand-in up and creates the table and the bucket; on
// any failure it stops what it had started.
func Start(ctx context.Context, opt Options) (_ *Stack, err error) {
	if !opt.InMemory && opt.DataDir == "" {
		return nil, errors.New("stack: DataDir is required unless InMemory")
	}
	if opt.Log == nil {
		opt.Log = io.Discard
	}
	s := &Stack{}
	defer func() {
		if err != nil {
			s.Stop()
		}
	}()

	if !opt.InMemory {
		if err := os.MkdirAll(opt.DataDir, 0o755); err != nil {
			return nil, err
		}
		if s.lock, err = lockDir(opt.DataDir); err != nil {
			return nil, err
		}
	}

	if err := s.startDynamoDB(ctx, opt); err != nil {
		return nil, err
	}
	if err := s.startS3(ctx, opt); err != nil {
		return nil, err
	}
	if err := s.startSecretsManager(opt); err != nil {
		return nil, err
	}
	if _, err := smstore.EnsurePepper(ctx, s.SecretsManager(), PepperSecret); err != nil {
		return nil, fmt.Errorf("stack: password pepper: %w", err)
	}
	if err := s.startEventBridge(opt); err != nil {
		return nil, err
	}
	s.Sandbox = sandbox.New(opt.Sandbox)
	if s.ConnectSAEndpoint, err = s.serve(s.Sandbox, opt.Ports.ConnectSA); err != nil {
		return nil, fmt.Errorf("stack: Connect SA sandbox: %w", err)
	}
	return s, nil
}

func (s *Stack) startDynamoDB(ctx context.Context, opt Options) error {
	cache := opt.CacheDir
	if cache == "" {
		root, err := checkout.Root()
		if err != nil {
			return fmt.Errorf("stack: no CacheDir and %w", err)
		}
		cache = filepath.Join(root, ".cache")
	}
	jar, err := dynamodblocal.Ensure(ctx, cache)
	if err != nil {
		return err
	}
	dbOpt := dynamodblocal.Options{JarDir: jar, Port: opt.Ports.DynamoDB, Log: opt.Log}
	if !opt.InMemory {
		dbOpt.DataDir = filepath.Join(opt.DataDir, "dynamodb")
	}
	if s.dynamo, err = dynamodblocal.Start(ctx, dbOpt); err != nil {
		return err
	}
	s.DynamoDBEndpoint = s.dynamo.Endpoint
	s.lost = make(chan error, 1)
	go func(db *dynamodblocal.Server) {
		<-db.Exited()
		if !s.stopping.Load() {
			s.lost <- fmt.Errorf("stack: DynamoDB Local ended while in use (%s)", db.ExitReport())
		}
	}(s.dynamo)
	return dynamo.EnsureTable(ctx, localaws.DynamoDB(s.DynamoDBEndpoint), Table)
}

func (s *Stack) startS3(ctx context.Context, opt Options) error {
	var backend gofakes3.Backend
	if opt.InMemory {
		backend = s3mem.New()
	} else {
		dir := filepath.Join(opt.DataDir, "s3")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		b, err := s3afero.MultiBucket(afero.NewBasePathFs(afero.NewOsFs(), dir))
		if err != nil {
			return fmt.Errorf("stack: S3 store in %s: %w", dir, err)
		}
		backend = b
	}
	if exists, err := backend.BucketExists(ReportBucket); err != nil {
		return err
	} else if !exists {
		if err := backend.CreateBucket(ReportBucket); err != nil {
			return err
		}
	}
	// gofakes3 neither checks signatures nor presigned URLs' expiry; the
	// tests check expiry at the unit level.
	faker := gofakes3.New(backend, gofakes3.WithLogger(gofakes3.DiscardLog()))
	endpoint, err := s.serve(faker.Server(), opt.Ports.S3)
	if err != nil {
		return fmt.Errorf("stack: S3: %w", err)
	}
	s.S3Endpoint = endpoint
	return nil
}

func (s *Stack) startSecretsManager(opt Options) error {
	dir := ""
	if !opt.InMemory {
		dir = filepath.Join(opt.DataDir, "secretsmanager")
	}
	sm, err := secretsmanagerlocal.New(dir)
	if err != nil {
		return err
	}
	sm.Logger = slog.New(slog.NewJSONHandler(opt.Log, nil))
	endpoint, err := s.serve(sm, opt.Ports.SecretsManager)
	if err != nil {
		return fmt.Errorf("stack: Secrets Manager: %w", err)
	}
	s.SecretsManagerEndpoint = endpoint
	return nil
}

// startEventBridge serves the EventBridge stand-in, appending to
// DataDir/events.jsonl (a temporary directory's when InMemory).
func (s *Stack) startEventBridge(opt Options) error {
	dir := opt.DataDir
	if opt.InMemory {
		d, err := os.MkdirTemp("", "creditanalysis-events-")
		if err != nil {
			return err
		}
		s.tempDirs = append(s.tempDirs, d)
		dir = d
	}
	eb, err := eventbridgelocal.New(dir, EventBus)
	if err != nil {
		return err
	}
	eb.Logger = slog.New(slog.NewJSONHandler(opt.Log, nil))
	s.Events = eb
	if s.EventBridgeEndpoint, err = s.serve(eb, opt.Ports.EventBridge); err != nil {
		return fmt.Errorf("stack: EventBridge: %w", err)
	}
	return nil
}

// StartStreamPoller reads the table's stream from now on and hands each
// batch to deliver, the event publisher's Lambda entry point, until ctx
// ends.
func (s *Stack) StartStreamPoller(ctx context.Context, deliver func(context.Context, events.DynamoDBEvent) error, log *slog.Logger) error {
	arn, err := dynamo.StreamARN(ctx, localaws.DynamoDB(s.DynamoDBEndpoint), Table)
	if err != nil {
		return fmt.Errorf("stack: %w", err)
	}
	p := &dynamodblocal.StreamPoller{Client: dynamodblocal.StreamsClient(s.DynamoDBEndpoint), StreamARN: arn, Deliver: deliver, Log: log}
	return p.Start(ctx)
}

// serve runs h on a loopback listener and returns its base URL.
func (s *Stack) serve(h http.Handler, port int) (string, error) {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	s.servers = append(s.servers, srv)
	go func() { _ = srv.Serve(l) }()
	return "http://" + l.Addr().String(), nil
}

// Env is the environment a function needs to use the stack, exactly the
// variables template.yaml sets in AWS plus the endpoints and dummy
// credentials that point the SDK here.
func (s *Stack) Env() map[string]string {
	env := map[string]string{
		"TABLE_NAME":                Table,
		"REPORT_BUCKET":             ReportBucket,
		"SECRET_PREFIX":             SecretPrefix,
		"PASSWORD_PEPPER_SECRET":    PepperSecret,
		"AWS_REGION":                localaws.Region,
		"AWS_DEFAULT_REGION":        localaws.Region,
		"AWS_ACCESS_KEY_ID":         "local",
		"AWS_SECRET_ACCESS_KEY":     "local",
		"AWS_ENDPOINT_URL_DYNAMODB": s.DynamoDBEndpoint,
		"AWS_ENDPOINT_URL_S3":       s.S3Endpoint,
		"S3_FORCE_PATH_STYLE":       "true",
		"BRANCHES_CLAIM":            localauth.BranchesClaim,
		"EVENT_BUS_NAME":            EventBus,
	}
	if s.SecretsManagerEndpoint != "" {
		env["AWS_ENDPOINT_URL_SECRETS_MANAGER"] = s.SecretsManagerEndpoint
	}
	if s.EventBridgeEndpoint != "" {
		env["AWS_ENDPOINT_URL_EVENTBRIDGE"] = s.EventBridgeEndpoint
	}
	if s.ConnectSAEndpoint != "" {
		env["CONNECTSA_HOMOLOGATION_URL"] = s.ConnectSAEndpoint
		env["CONNECTSA_PRODUCTION_URL"] = s.ConnectSAEndpoint
	}
	return env
}

// Clients are SDK clients on the stack, for code running in this process:
// what allareas.AWSClients builds from Env, without touching the process's
// environment.
func (s *Stack) Clients() allareas.Clients {
	return allareas.Clients{
		DynamoDB:       localaws.DynamoDB(s.DynamoDBEndpoint),
		SecretsManager: s.SecretsManager(),
		S3:             s.S3(),
		HTTP:           &http.Client{Timeout: 30 * time.Second},
	}
}

// S3 is a path-style S3 client on the stack's S3.
func (s *Stack) S3() *s3.Client {
	return s3.NewFromConfig(localaws.Config(), func(o *s3.Options) {
		o.BaseEndpoint = aws.String(s.S3Endpoint)
		o.UsePathStyle = true
	})
}

// SecretsManager is a client on the stack's Secrets Manager.
func (s *Stack) SecretsManager() *secretsmanager.Client {
	return secretsmanagerlocal.Client(s.SecretsManagerEndpoint)
}

// Lost delivers an error, once, when a stand-in that runs as a process of
// its own (DynamoDB Local) ends while the stack is up, as when its Java
// crashes or is killed: every call behind it would fail from then on.
func (s *Stack) Lost() <-chan error { return s.lost }

// Stop stops every stand-in (DynamoDB Local's Java process included) and
// waits for it; it is safe to call more than once.
func (s *Stack) Stop() {
	s.stopping.Store(true)
	s.stopOnce.Do(func() {
		if s.Sandbox != nil {
			s.Sandbox.Close() // releases calls stalled by an injected timeout
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for _, srv := range s.servers {
			if err := srv.Shutdown(ctx); err != nil {
				_ = srv.Close()
			}
		}
		if s.dynamo != nil {
			s.dynamo.Stop()
		}
		for _, d := range s.tempDirs {
			_ = os.RemoveAll(d)
		}
		if s.lock != nil {
			_ = s.lock.Close() // releases the flock
		}
	})
}

// lockDir takes an exclusive lock on dataDir: two stacks on one directory
// would corrupt DynamoDB Local's files.
func lockDir(dataDir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dataDir, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("stack: %s is in use by another local stack (is `make run` already running?)", dataDir)
	}
	return f, nil
}
