// Command testenv runs a command inside the test environment: one in-memory
// DynamoDB Local for the whole run, its endpoint exported as
// DYNAMODB_ENDPOINT, so that every test package of `make test` shares it
// instead of starting its own Java. It stops everything and exits with the
// command's status.
//
//	go run ./infra/testenv -- go test ./...
//	go run ./infra/testenv -fetch          # only download DynamoDB Local and Swagger UI
//	go run ./infra/testenv -zip OUT FILE   # deterministic Lambda zip
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"

	"creditanalysis/infra/checkout"
	"creditanalysis/infra/dynamodblocal"
	"creditanalysis/infra/swaggerui"
)

func main() {
	fetch := flag.Bool("fetch", false, "only download DynamoDB Local and Swagger UI (the API reference viewer) into the cache")
	zipOut := flag.String("zip", "", "write a Lambda zip holding the file given as argument to this path")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: testenv [-fetch] [-zip OUT FILE] [-- command args...]")
		flag.PrintDefaults()
	}
	flag.Parse()

	var code int
	var err error
	switch {
	case *zipOut != "":
		if flag.NArg() != 1 {
			flag.Usage()
			os.Exit(2)
		}
		err = writeZip(*zipOut, flag.Arg(0))
	case *fetch:
		if _, err = jarDir(context.Background()); err == nil {
			err = fetchViewer(context.Background())
		}
	default:
		if flag.NArg() == 0 {
			flag.Usage()
			os.Exit(2)
		}
		code, err = run(flag.Args())
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "testenv:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func jarDir(ctx context.Context) (string, error) {
	root, err := checkout.Root()
	if err != nil {
		return "", err
	}
	return dynamodblocal.Ensure(ctx, filepath.Join(root, ".cache"))
}

// fetchViewer downloads the API reference viewer `make run` serves on /docs.
func fetchViewer(ctx context.Context) error {
	root, err := checkout.Root()
	if err != nil {
		return err
	}
	_, err = swaggerui.Ensure(ctx, filepath.Join(root, ".cache"))
	return err
}

// run starts DynamoDB Local, runs args with DYNAMODB_ENDPOINT set and
// returns its exit code. SIGINT and SIGTERM go to the command; the database
// stops once the command has exited.
func run(args []string) (int, error) {
	ctx := context.Background()
	jar, err := jarDir(ctx)
	if err != nil {
		return 0, err
	}
	db, err := dynamodblocal.Start(ctx, dynamodblocal.Options{JarDir: jar})
	if err != nil {
		return 0, err
	}
	defer db.Stop()

	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), dynamodblocal.EndpointEnv+"="+db.Endpoint)
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(signals)
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	go func() {
		for s := range signals {
			_ = cmd.Process.Signal(s)
		}
	}()
	err = cmd.Wait()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		if exit.ExitCode() < 0 { // killed by a signal
			return 1, nil
		}
		return exit.ExitCode(), nil
	}
	return 0, err
}
