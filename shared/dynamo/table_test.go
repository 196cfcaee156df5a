package dynamo_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"creditanalysis/infra/dynamodblocal"
	"creditanalysis/infra/localaws"
	"creditanalysis/shared/dynamo"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEnsureTableGivesAnOlderTableItsStream: a local table created before
// the table had a change stream gets one, so that events flow from data
// kept across versions.
func TestEnsureTableGivesAnOlderTableItsStream(t *testing.T) {
	ctx := context.Background()
	client := localaws.DynamoDB(dynamodblocal.TestEndpoint(t))
	name := fmt.Sprintf("old-%d", time.Now().UnixNano())
	def := dynamo.TableDefinition(name)
	def.StreamSpecification = nil
	_, err := client.CreateTable(ctx, def)
	require.NoError(t, err)
	_, err = dynamo.StreamARN(ctx, client, name)
	require.Error(t, err, "created without a stream")

	require.NoError(t, dynamo.EnsureTable(ctx, client, name))
	arn, err := dynamo.StreamARN(ctx, client, name)
	require.NoError(t, err)
	assert.NotEmpty(t, arn)
	out, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	require.NoError(t, err)
	assert.Equal(t, dynamo.StreamViewType, out.Table.StreamSpecification.StreamViewType)
	require.NoError(t, dynamo.EnsureTable(ctx, client, name), "and again: nothing to do")
}
