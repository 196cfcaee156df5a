package dynamo_test

import (
	"testing"

	"creditanalysis/shared/credit/credittest"
)

func TestBillingStoreContract(t *testing.T) {
	credittest.BillingStore(t, func(t *testing.T) credittest.BillingStores { return newStore(t) })
}
