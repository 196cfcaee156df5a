package dynamo

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Attribute names of the keys, the indexes and the TTL.
const (
	attrPK  = "PK"
	attrSK  = "SK"
	attrTTL = "expiresAt"
)

// Indexes are the table's global secondary indexes, each keyed
// <name>PK/<name>SK. GSI1 to GSI3 project every attribute; GSI4 only the
// keys, integrationId and origin (its filters): it holds the negativations by branch and status,
// whose records are large and change status, so each index entry written
// stays small.
var Indexes = []string{"GSI1", "GSI2", "GSI3", "GSI4"}

// projection is what an index holds besides its keys.
func projection(index string) *types.Projection {
	if index == "GSI4" {
		return &types.Projection{ProjectionType: types.ProjectionTypeInclude, NonKeyAttributes: []string{"integrationId", "origin"}}
	}
	return &types.Projection{ProjectionType: types.ProjectionTypeAll}
}

// TTLAttribute names the attribute DynamoDB expires items by.
const TTLAttribute = attrTTL

// StreamViewType is what the table's change stream carries: both images,
// so that the event publisher tells a status change from any other write.
const StreamViewType = types.StreamViewTypeNewAndOldImages

// TableDefinition is the table's schema: the same keys, indexes and change
// stream that template.yaml declares (a test keeps the two equal). Local
// set-up and tests create the table from it.
func TableDefinition(name string) *dynamodb.CreateTableInput {
	attrs := []types.AttributeDefinition{
		{AttributeName: aws.String(attrPK), AttributeType: types.ScalarAttributeTypeS},
		{AttributeName: aws.String(attrSK), AttributeType: types.ScalarAttributeTypeS},
	}
	var gsis []types.GlobalSecondaryIndex
	for _, ix := range Indexes {
		attrs = append(attrs,
			types.AttributeDefinition{AttributeName: aws.String(ix + "PK"), AttributeType: types.ScalarAttributeTypeS},
			types.AttributeDefinition{AttributeName: aws.String(ix + "SK"), AttributeType: types.ScalarAttributeTypeS})
		gsis = append(gsis, types.GlobalSecondaryIndex{
			IndexName: aws.String(ix),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String(ix + "PK"), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String(ix + "SK"), KeyType: types.KeyTypeRange},
			},
			Projection: projection(ix),
		})
	}
	return &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: attrs,
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(attrPK), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(attrSK), KeyType: types.KeyTypeRange},
		},
		GlobalSecondaryIndexes: gsis,
		StreamSpecification:    streamSpecification(),
	}
}

// EnsureTable creates the table when it does not exist and enables its TTL
// (and, on a table created before it had one, its stream): for DynamoDB
// Local and tests; in AWS the template owns the table.
func EnsureTable(ctx context.Context, client *dynamodb.Client, name string) error {
	_, err := client.CreateTable(ctx, TableDefinition(name))
	var inUse *types.ResourceInUseException
	switch {
	case errors.As(err, &inUse):
		return ensureStream(ctx, client, name)
	case err != nil:
		return fmt.Errorf("create table %s: %w", name, err)
	}
	if err := dynamodb.NewTableExistsWaiter(client).Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, 2*60e9); err != nil {
		return err
	}
	_, err = client.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName:               aws.String(name),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String(attrTTL), Enabled: aws.Bool(true)},
	})
	return err
}

// streamSpecification turns the table's stream on, with StreamViewType.
func streamSpecification() *types.StreamSpecification {
	return &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: StreamViewType}
}

func ensureStream(ctx context.Context, client *dynamodb.Client, name string) error {
	out, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	if err != nil {
		return fmt.Errorf("describe table %s: %w", name, err)
	}
	if spec := out.Table.StreamSpecification; spec != nil && aws.ToBool(spec.StreamEnabled) {
		return nil
	}
	_, err = client.UpdateTable(ctx, &dynamodb.UpdateTableInput{
		TableName:           aws.String(name),
		StreamSpecification: streamSpecification(),
	})
	if err != nil {
		return fmt.Errorf("enable stream of %s: %w", name, err)
	}
	return nil
}

// StreamARN is the ARN of the table's latest change stream.
func StreamARN(ctx context.Context, client *dynamodb.Client, name string) (string, error) {
	out, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	if err != nil {
		return "", fmt.Errorf("describe table %s: %w", name, err)
	}
	if out.Table.LatestStreamArn == nil {
		return "", fmt.Errorf("table %s has no stream", name)
	}
	return *out.Table.LatestStreamArn, nil
}
