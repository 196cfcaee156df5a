package dynamodbcapacity_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"creditanalysis/infra/dynamodbcapacity"
	"creditanalysis/infra/dynamodblocal"
	"creditanalysis/infra/localaws"
	"creditanalysis/shared/credit"
	"creditanalysis/shared/credit/credittest"
	"creditanalysis/shared/dynamo"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMeter: the meter sums what DynamoDB reports for reads and
// writes, of any store's calls, without changing the callers' inputs.
func TestMeter(t *testing.T) {
	ctx := context.Background()
	var meter dynamodbcapacity.Meter
	client := dynamodb.NewFromConfig(localaws.Config(), func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(dynamodblocal.TestEndpoint(t))
	}, meter.Option())
	name := fmt.Sprintf("test-capacity-%d", time.Now().UnixNano())
	require.NoError(t, dynamo.EnsureTable(ctx, client, name))
	s := dynamo.New(client, name)
	_, _, before := meter.Consumed()

	c := credittest.NewTestCustomer("c1", "b1")
	_, err := s.PutParty(ctx, c)
	require.NoError(t, err)
	require.NoError(t, s.PutInvoice(ctx, credittest.NewTestInvoice(c, "inv-1", credit.NewDate(2026, 9, 1), 1000)))
	read, write, calls := meter.Consumed()
	assert.Zero(t, read)
	assert.Greater(t, write, 2.0, "a put and a two-item transaction, indexes included")
	assert.Equal(t, before+2, calls)
	by := meter.WritesBy()
	assert.Positive(t, by["PutItem table"], "the party's put, on the table")
	assert.Positive(t, by["TransactWriteItems table"], "the invoice's transaction, on the table")
	var spread float64
	for _, v := range by {
		spread += v
	}
	assert.InDelta(t, write, spread, 1e-9, "the breakdown adds up to the total")

	_, err = s.GetParty(ctx, credit.PartyCustomer, "c1")
	require.NoError(t, err)
	_, err = s.GetCustomers(ctx, []string{"c1", "c2"})
	require.NoError(t, err)
	_, _, err = s.OpenInvoicesDue(ctx, credit.OpenInvoiceQuery{BranchID: "b1", From: credit.NewDate(2026, 1, 1), To: credit.NewDate(2026, 12, 1)})
	require.NoError(t, err)
	read2, write2, calls2 := meter.Consumed()
	assert.Greater(t, read2, 1.0)
	assert.Equal(t, write, write2)
	assert.Equal(t, calls+3, calls2)

	in := &dynamodb.GetItemInput{TableName: aws.String(name), Key: map[string]types.AttributeValue{
		"PK": &types.AttributeValueMemberS{Value: "x"}, "SK": &types.AttributeValueMemberS{Value: "y"}}}
	_, err = client.GetItem(ctx, in)
	require.NoError(t, err)
	assert.Empty(t, in.ReturnConsumedCapacity, "the caller's input is not changed")
}
