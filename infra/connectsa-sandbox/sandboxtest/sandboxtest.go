// Package sandboxtest starts the Connect SA sandbox for the tests of any
// package and points the real adapter at it over HTTP, so that tests of the
// domain's areas run against the same peer as the adapter's own.
package sandboxtest

import (
	"fmt"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"creditanalysis/infra/connectsa-sandbox/sandbox"
	"creditanalysis/shared/connectsa"
	"creditanalysis/shared/credit"
)

// Start serves a sandbox with cfg on a loopback port until the test ends and
// returns it with its base URL.
func Start(tb testing.TB, cfg sandbox.Config) (*sandbox.Server, string) {
	tb.Helper()
	sb := sandbox.New(cfg)
	srv := httptest.NewServer(sb)
	tb.Cleanup(srv.Close)
	tb.Cleanup(sb.Close) // runs first: releases stalled answers so Close does not wait
	return sb, srv.URL
}

// Bureau starts a sandbox and returns the connectsa adapter pointed at it for
// both environments. Zero fields of adapter take the adapter's defaults; the
// base URLs are always the sandbox's.
func Bureau(tb testing.TB, cfg sandbox.Config, adapter connectsa.Config) (*connectsa.Client, *sandbox.Server) {
	tb.Helper()
	sb, url := Start(tb, cfg)
	adapter.BaseURLs = map[credit.Environment]string{
		credit.EnvironmentHomologation: url,
		credit.EnvironmentProduction:   url,
	}
	return connectsa.New(adapter, nil), sb
}

var logins atomic.Int64

// Account returns a homologation account the sandbox has never seen, with
// passwords that follow the partner's rules; its first call enrols it.
func Account() credit.BureauAccount {
	return credit.BureauAccount{
		Environment: credit.EnvironmentHomologation,
		Credentials: credit.Credentials{
			Login:                fmt.Sprintf("isp-test-%d", logins.Add(1)),
			ConsultationPassword: "Init@123",
			PEFINPassword:        "147258",
		},
	}
}
