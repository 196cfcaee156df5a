// Command connectsa-sandbox serves the Connect SA sandbox on its own, for
// trying the product or the adapter against a bureau with chosen latency and
// faults. See README.md for the scenario documents.
//
//	go run ./infra/connectsa-sandbox -addr 127.0.0.1:8089 -latency 100ms -error-rate 0.05
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"creditanalysis/infra/connectsa-sandbox/sandbox"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "connectsa-sandbox:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("connectsa-sandbox", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8089", "address to listen on")
	var cfg sandbox.Config
	fs.DurationVar(&cfg.Latency, "latency", 0, "latency added to every answer")
	fs.DurationVar(&cfg.LatencyJitter, "latency-jitter", 0, "random extra latency, uniform in [0, jitter)")
	fs.Float64Var(&cfg.ErrorRate, "error-rate", 0, "fraction of calls answered 503 (0..1)")
	fs.Float64Var(&cfg.TimeoutRate, "timeout-rate", 0, "fraction of calls that stall without doing anything (0..1)")
	fs.Float64Var(&cfg.LostAnswerRate, "lost-answer-rate", 0, "fraction of calls that do their work, then stall (0..1)")
	fs.Float64Var(&cfg.MalformedRate, "malformed-rate", 0, "fraction of calls answered with a broken body (0..1)")
	fs.DurationVar(&cfg.TimeoutAfter, "timeout-after", 0, "how long a stall lasts (0: until the client gives up)")
	fs.DurationVar(&cfg.ActivationDelay, "activation-delay", 0, "how long an inclusion stays pending")
	fs.Int64Var(&cfg.Seed, "seed", 1, "seed of the random faults")
	ops := fs.String("fault-operations", "", "comma-separated operations the faults apply to (consulta, inclusao, baixa, situacao, codigos, senha, produtos, acesso); empty: all")
	if err := fs.Parse(args); err != nil {
		return err
	}
	for _, rate := range []float64{cfg.ErrorRate, cfg.TimeoutRate, cfg.LostAnswerRate, cfg.MalformedRate} {
		if rate < 0 || rate > 1 {
			return errors.New("rates must be between 0 and 1")
		}
	}
	if *ops != "" {
		known := []sandbox.Operation{sandbox.OpConsult, sandbox.OpInclude, sandbox.OpRemove, sandbox.OpStatus, sandbox.OpCodes, sandbox.OpPassword, sandbox.OpProducts, sandbox.OpAccess}
		for _, name := range strings.Split(*ops, ",") {
			op := sandbox.Operation(strings.TrimSpace(name))
			if !slices.Contains(known, op) {
				return fmt.Errorf("unknown operation %q in -fault-operations", name)
			}
			cfg.FaultOperations = append(cfg.FaultOperations, op)
		}
	}

	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	sb := sandbox.New(cfg)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: sb, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		sb.Close() // release stalled answers so that shutdown does not wait for them
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shutdown)
	}()
	fmt.Printf("connectsa sandbox listening on http://%s\n", ln.Addr())
	log.Info("sandbox started", "addr", ln.Addr().String(), "latency", cfg.Latency.String(), "errorRate", cfg.ErrorRate,
		"timeoutRate", cfg.TimeoutRate, "lostAnswerRate", cfg.LostAnswerRate, "malformedRate", cfg.MalformedRate)
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
