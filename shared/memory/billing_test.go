package memory_test

import (
	"testing"

	"creditanalysis/shared/credit/credittest"
	"creditanalysis/shared/memory"
)

func TestBillingStoreContract(t *testing.T) {
	credittest.BillingStore(t, func(t *testing.T) credittest.BillingStores { return memory.NewBilling(memory.New()) })
}
