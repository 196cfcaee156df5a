package dynamo_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"creditanalysis/shared/credit"
	"creditanalysis/shared/credit/credittest"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"
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

// TestConsultationMonthListedOncePerProcess: a consultation's month is
// listed by its first consultation in this process; the next ones of the
// month write their record in one call, and a list still finds them all.
func TestConsultationMonthListedOncePerProcess(t *testing.T) {
	s := newStore(t)
	var mu sync.Mutex
	var ops []string
	s.Client = dynamodb.New(s.Client.Options(), func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
			return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("countCalls",
				func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
					mu.Lock()
					ops = append(ops, awsmiddleware.GetOperationName(ctx))
					mu.Unlock()
					return next.HandleInitialize(ctx, in)
				}), middleware.Before)
		})
	})
	ctx := context.Background()
	may, june := time.Date(2026, 5, 2, 10, 0, 0, 0, time.UTC), time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		id   string
		at   time.Time
		want []string
	}{
		{"c1", may, []string{"PutItem", "TransactWriteItems"}},
		{"c2", may.Add(time.Hour), []string{"TransactWriteItems"}},
		{"c3", june, []string{"PutItem", "TransactWriteItems"}},
		{"c4", june.Add(time.Hour), []string{"TransactWriteItems"}},
	} {
		mu.Lock()
		ops = nil
		mu.Unlock()
		require.NoError(t, s.CreateConsultation(ctx, credittest.NewTestConsultation(tt.id, tt.at, "52998224725")))
		mu.Lock()
		assert.Equal(t, tt.want, ops, tt.id)
		mu.Unlock()
	}
	branch := credittest.NewTestConsultation("any", may, "52998224725").BranchID
	got, _, err := s.ListConsultations(ctx, credit.ConsultationFilter{Branches: credit.Branches{branch}}, credit.Page{Limit: 10})
	require.NoError(t, err)
	var ids []string
	for _, c := range got {
		ids = append(ids, c.ID)
	}
	assert.Equal(t, []string{"c4", "c3", "c2", "c1"}, ids)
}
