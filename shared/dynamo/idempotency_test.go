package dynamo_test

import (
	"testing"

	"creditanalysis/shared/credit"
	"creditanalysis/shared/credit/credittest"
)

func TestIdempotencyStoreContract(t *testing.T) {
	credittest.IdempotencyStore(t, func(t *testing.T) credit.IdempotencyStore { return newStore(t) })
}
