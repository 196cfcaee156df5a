package memory_test

import (
	"testing"

	"creditanalysis/shared/credit"
	"creditanalysis/shared/credit/credittest"
	"creditanalysis/shared/memory"
)

func TestParametersStoreContract(t *testing.T) {
	credittest.ParametersStore(t, func(t *testing.T) credit.ParametersStore { return memory.New() })
}
