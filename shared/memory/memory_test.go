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

func TestIntegrationStoreContract(t *testing.T) {
	credittest.IntegrationStore(t, func(t *testing.T) credit.IntegrationStore { return memory.New() })
}

func TestPartyStoreContract(t *testing.T) {
	credittest.PartyStore(t, func(t *testing.T) credit.PartyStore { return memory.New() })
}

func TestAuditLogContract(t *testing.T) {
	credittest.AuditLog(t, func(t *testing.T) credit.AuditLog { return memory.NewAudit() })
}

func TestReportStoreContract(t *testing.T) {
	credittest.ReportStore(t, func(t *testing.T) (credit.ReportStore, func(string) ([]byte, error)) {
		r := memory.NewReports()
		return r, r.Fetch
	})
}

func TestReportArchiveContract(t *testing.T) {
	credittest.ReportArchive(t, func(t *testing.T) credit.ReportArchive { return memory.NewReports() })
}
