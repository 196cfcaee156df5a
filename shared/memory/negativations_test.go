package memory_test

import (
	"testing"

	"creditanalysis/shared/credit/credittest"
	"creditanalysis/shared/memory"
)

func TestNegativationStoreContract(t *testing.T) {
	credittest.NegativationStore(t, func(t *testing.T) credittest.NegativationStores { return memory.New() })
}
