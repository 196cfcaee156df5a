package credittest_test

import (
	"testing"

	"creditanalysis/shared/credit"
	"creditanalysis/shared/credit/credittest"
)

// The fake the negativation flow's unit tests use passes the negativation
// part of the bureau contract, like the real adapter against the sandbox.
func TestFakeBureauNegativationContract(t *testing.T) {
	credittest.BureauNegativations(t, func(t *testing.T) (credit.Bureau, credit.BureauAccount) {
		f := credittest.NewFakeBureau()
		f.Scenarios = true
		return f, credit.BureauAccount{Environment: credit.EnvironmentHomologation, Credentials: credit.Credentials{Login: "fake"}}
	})
}
