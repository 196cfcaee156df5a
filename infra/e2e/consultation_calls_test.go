package e2e_test

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestWarmConsultationMakesThreeAWSCalls counts the AWS calls of a
// consultation in a warm container, on the local runner's wiring: taking
// the document's mark (which reads the repeat interval's latest success in
// the same write), the record's transaction (with the document's state and
// the audit event) and the report's archive. A further read or write on the
// consultation's path, an interval rule that reads on its own, an audit
// event appended after the answer, fails it. That the archive and the
// record are written at the same time is TestReportArchivedWhileRecorded's.
func TestWarmConsultationMakesThreeAWSCalls(t *testing.T) {
	rig := newConsultationRig(t)
	// The first consultations read the parameters, the integration, its
	// secret and its plans, and list the month; a warm container keeps them
	// (the parameters and the integration for credit.WarmReadTTL, which
	// these few consultations stay well within).
	for range 2 {
		rig.consult()
	}
	for range 2 {
		_, calls := rig.consult()
		var ops []string
		for _, c := range calls {
			ops = append(ops, c.service+" "+c.op)
		}
		slices.Sort(ops)
		assert.Equal(t, []string{"dynamodb TransactWriteItems", "dynamodb UpdateItem", "s3 PUT creditanalysis-reports-local"}, ops)
	}
}
