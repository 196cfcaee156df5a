package dynamo_test

import (
	"testing"

	"creditanalysis/shared/credit"
	"creditanalysis/shared/credit/credittest"
)

func TestAuditLogContract(t *testing.T) {
	credittest.AuditLog(t, func(t *testing.T) credit.AuditLog { return newStore(t) })
}
