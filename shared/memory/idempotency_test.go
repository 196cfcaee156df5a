package memory_test

import (
	"testing"

	"creditanalysis/shared/credit"
	"creditanalysis/shared/credit/credittest"
	"creditanalysis/shared/memory"
)

func TestIdempotencyStoreContract(t *testing.T) {
	credittest.IdempotencyStore(t, func(t *testing.T) credit.IdempotencyStore { return memory.NewIdempotency() })
}
