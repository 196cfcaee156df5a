package memory_test

import (
	"testing"
	"time"

	"creditanalysis/shared/credit"
	"creditanalysis/shared/credit/credittest"
	"creditanalysis/shared/memory"
)

func TestConsultationStoreContract(t *testing.T) {
	credittest.ConsultationStore(t, func(t *testing.T, now func() time.Time) credit.ConsultationStore {
		s := memory.NewConsultations()
		s.Now = now
		return s
	})
}
