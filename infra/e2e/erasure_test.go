package e2e_test

import (
	"context"
	"net/url"
	"sort"
	"testing"
	"time"

	"creditanalysis/infra/stack"
	"creditanalysis/shared/credit"
	"creditanalysis/shared/credit/credittest"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRetentionAndErasureEndToEnd: through the local API Gateway on
// DynamoDB Local, the S3 stand-in and the Connect SA sandbox,
//
//   - a consultation recorded longer ago than REPORT_RETENTION_DAYS reads
//     as its minimal record and its PDF answers 410 report_expired;
//   - a customer's erasure is refused with 409 party_has_live_negativations
//     while its negativation is live; once removed, the erasure deletes the
//     party and the reports and PDFs of its document's consultations, which
//     keep their minimal record with no name, whose PDFs answer 410; a repeat
//     answers the same; the audit trail names the party.
func TestRetentionAndErasureEndToEnd(t *testing.T) {
	ctx := context.Background()
	b := startBranchSeven(t, credit.Automation{Enabled: false, RestrictionCode: "02", RemovalCode: "01"}, false)
	st, a, store := b.st, b.app, b.store
	admin, collector := token(t, credit.RoleAdmin), token(t, credit.RoleCollector)

	call, code := b.caller(t), answerCode
	objects := func() []string {
		t.Helper()
		out, err := st.S3().ListObjectsV2(ctx, &awss3.ListObjectsV2Input{Bucket: aws.String(stack.ReportBucket)})
		require.NoError(t, err)
		var keys []string
		for _, o := range out.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
		sort.Strings(keys)
		return keys
	}

	t.Run("past the retention", func(t *testing.T) {
		// Recorded by the deployed service's own code, on the same table,
		// bucket and sandbox, a day more than the retention ago.
		old := *a.Consultations()
		require.Positive(t, old.ReportRetention)
		recordedAt := time.Now().Add(-old.ReportRetention - 24*time.Hour)
		old.Now = func() time.Time { return recordedAt }
		out, err := old.Consult(credit.WithActor(ctx, credit.Actor{Subject: "u-analyst", Name: "Ana"}),
			credit.ConsultationRequest{Document: "111.444.777-35", BranchID: "7", UF: "SP"})
		require.NoError(t, err)
		id := out.Consultation.ID

		got := call(admin, "GET", "/consultations/"+id, "", 200)
		assert.NotContains(t, got, "report")
		assert.Nil(t, got["overview"], "no name left")
		assert.Equal(t, "***.444.777-**", got["document"])
		assert.Equal(t, "succeeded", got["status"])
		assert.NotEmpty(t, got["protocol"], "the minimal record stays")
		assert.NotEmpty(t, got["reportExpiresAt"])
		assert.NotContains(t, got, "reportErasedAt")
		gone := call(admin, "GET", "/consultations/"+id+"/pdf?format=json", "", 410)
		assert.Equal(t, credit.CodeReportExpired, code(gone))
		assert.Contains(t, gone["error"].(map[string]any)["message"], "prazo de guarda")
		listed := call(admin, "GET", "/consultations?document=11144477735", "", 200)["items"].([]any)
		require.Len(t, listed, 1)
		assert.Nil(t, listed[0].(map[string]any)["overview"])
	})
	retained := objects()

	t.Run("erasure", func(t *testing.T) {
		customer := credittest.NewTestCustomer("c-erase", "7")
		_, err := store.PutParty(ctx, customer)
		require.NoError(t, err)
		today := credit.DateOf(time.Now(), credit.SaoPaulo())
		inv := credittest.NewTestInvoice(customer, "inv-1", today.AddDays(-60), 12990)
		require.NoError(t, store.PutInvoice(ctx, inv))

		byParty := call(admin, "POST", "/consultations", `{"party":{"kind":"customer","id":"c-erase"}}`, 201)
		byDoc := call(admin, "POST", "/consultations", `{"document":"529.982.247-25","branchId":"7","uf":"SP","confirmRepeat":true}`, 201)
		for _, c := range []map[string]any{byParty, byDoc} {
			require.NotNil(t, c["overview"])
			require.NotEmpty(t, c["overview"].(map[string]any)["name"], "the report names the person")
			call(admin, "GET", "/consultations/"+c["id"].(string)+"/pdf?format=json", "", 200) // its PDF, stored on first download
		}
		require.Len(t, objects(), len(retained)+4, "a PDF and an archived report each")

		neg, err := a.Negativations().Include(credit.WithActor(ctx, credit.Actor{Subject: "u-collector"}),
			credit.IncludeRequest{CustomerID: customer.ID, InvoiceID: inv.ID})
		require.NoError(t, err)
		require.True(t, neg.Live(), "%s", neg.Status)

		refused := call(admin, "POST", "/parties/customers/c-erase/erasure", "", 409)
		assert.Equal(t, credit.CodePartyHasLiveNegativations, code(refused))
		assert.Contains(t, refused["error"].(map[string]any)["message"], "CDC art. 43")
		call(admin, "GET", "/parties/customers/c-erase", "", 200)
		require.Len(t, objects(), len(retained)+4, "nothing erased")

		call(collector, "POST", "/parties/customers/c-erase/erasure", "", 403)

		removed := call(collector, "POST", "/negativations/"+neg.ID+"/removal", `{"removalCode":"01"}`, 200)
		require.Equal(t, "removed", removed["status"])

		erased := call(admin, "POST", "/parties/customers/c-erase/erasure", "", 200)
		assert.Equal(t, "customer", erased["kind"])
		assert.Equal(t, "c-erase", erased["id"])
		assert.EqualValues(t, 2, erased["consultations"])
		assert.NotEmpty(t, erased["erasedAt"])

		gone := call(admin, "GET", "/parties/customers/c-erase", "", 404)
		assert.Equal(t, credit.CodeNotFound, code(gone))
		assert.Equal(t, retained, objects(), "the PDFs and archived reports of its consultations are deleted, no other")
		for _, c := range []map[string]any{byParty, byDoc} {
			id := c["id"].(string)
			got := call(admin, "GET", "/consultations/"+id, "", 200)
			assert.NotContains(t, got, "report")
			assert.Nil(t, got["overview"], "no name")
			assert.NotContains(t, got, "party")
			assert.Equal(t, erased["erasedAt"], got["reportErasedAt"])
			assert.Equal(t, c["protocol"], got["protocol"], "the minimal record stays")
			assert.Equal(t, "***.982.247-**", got["document"])
			pdf := call(admin, "GET", "/consultations/"+id+"/pdf?format=json", "", 410)
			assert.Equal(t, credit.CodeReportExpired, code(pdf))
		}
		listed := call(admin, "GET", "/consultations?document=52998224725", "", 200)["items"].([]any)
		require.Len(t, listed, 2, "the records stay in the center")
		for _, it := range listed {
			assert.Nil(t, it.(map[string]any)["overview"])
		}
		n, err := store.GetNegativation(ctx, neg.ID)
		require.NoError(t, err, "the debt record is kept")
		assert.Equal(t, credit.NegativationRemoved, n.Status)

		again := call(admin, "POST", "/parties/customers/c-erase/erasure", "", 200)
		assert.Equal(t, erased, again, "a repeat answers the same")

		trail := call(admin, "GET", "/audit?action="+url.QueryEscape("POST /parties/{kind}/{id}/erasure"), "", 200)["items"].([]any)
		var statuses []float64
		for _, it := range trail {
			e := it.(map[string]any)
			assert.Equal(t, map[string]any{"kind": "customers", "id": "c-erase"}, e["target"], "the audit names the party")
			statuses = append(statuses, e["outcome"].(map[string]any)["status"].(float64))
		}
		assert.ElementsMatch(t, []float64{409, 403, 200, 200}, statuses)
	})
}
