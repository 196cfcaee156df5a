package dynamo_test

import (
	"testing"

	"creditanalysis/shared/credit"
	"creditanalysis/shared/credit/credittest"
)

func TestPasswordStoreContract(t *testing.T) {
	credittest.PasswordStore(t, func(t *testing.T) credit.PasswordStore { return newStore(t) })
}
