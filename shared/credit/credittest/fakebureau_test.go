package credittest_test

import (
	"testing"

	"creditanalysis/shared/credit"
	"creditanalysis/shared/credit/credittest"
)

// The fake the negativation flow's unit tests use passes the PEFIN registry
// contract, like the real adapter against the sandbox.
func TestFakeBureauRegistryContract(t *testing.T) {
	credittest.PEFINRegistry(t, func(t *testing.T) (credit.PEFINRegistry, credit.BureauAccount) {
		f := credittest.NewFakeBureau()
		f.Scenarios = true
		return f, credit.BureauAccount{Environment: credit.EnvironmentHomologation, Credentials: credit.Credentials{Login: "fake"}}
	})
}
