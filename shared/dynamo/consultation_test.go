package dynamo_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"creditanalysis/shared/credit"
	"creditanalysis/shared/credit/credittest"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestConsultationStoreContract(t *testing.T) {
	credittest.ConsultationStore(t, func(t *testing.T, now func() time.Time) credit.ConsultationStore {
		s := newStore(t)
		s.Now = now
		for _, b := range credittest.ConsultationBranches {
			require.NoError(t, s.CreateIntegration(context.Background(), credittest.NewTestIntegration(b)))
		}
		return s
	})
}

// A report with a large raw answer still fits one item: it is stored
// gzipped, and the party's copy carries no report at all.
func TestConsultationItemsStaySmall(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	c := credittest.NewTestConsultation("big", time.Date(2026, 5, 2, 10, 0, 0, 0, time.UTC), "52998224725")
	c.Party = &credit.PartyRef{Kind: credit.PartyCustomer, ID: "c1"}
	raw := `{"filler":"` + strings.Repeat("PENDENCIA FINANCEIRA REGISTRADA ", 30000) + `"}`
	c.Report.Raw = []byte(raw)
	require.NoError(t, s.CreateConsultation(ctx, c))
	got, err := s.GetConsultation(ctx, "big")
	require.NoError(t, err)
	assert.JSONEq(t, raw, string(got.Report.Raw))

	res, err := s.Client.Query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(s.Table),
		KeyConditionExpression:    aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: "PARTY#customer#c1"}},
	})
	require.NoError(t, err)
	require.Len(t, res.Items, 1)
	assert.NotContains(t, res.Items[0], "report")
	assert.NotContains(t, res.Items[0], "GSI1PK", "the copy must not show twice in the center")
}
