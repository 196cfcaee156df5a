package dynamo

import (
	"context"

	"creditanalysis/shared/credit"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

var _ credit.ParametersStore = (*Store)(nil)

const parametersKey = "PARAMETERS"

type parametersItem struct {
	credit.Parameters
	UpdatedAt string `dynamodbav:"updatedAt"`
}

func (s *Store) GetParameters(ctx context.Context) (credit.Parameters, error) {
	var item parametersItem
	if _, err := s.getItem(ctx, parametersKey, parametersKey, &item); err != nil {
		return credit.Parameters{}, err
	}
	return item.Parameters, nil
}

func (s *Store) PutParameters(ctx context.Context, p credit.Parameters) error {
	item, err := marshal(parametersItem{Parameters: p, UpdatedAt: s.now().Format(timeLayout)}, map[string]string{attrPK: parametersKey, attrSK: parametersKey})
	if err != nil {
		return err
	}
	if _, err := s.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.Table), Item: item}); err != nil {
		return credit.Internal(err, "dynamo: put parameters")
	}
	return nil
}

// timeLayout is how instants are stored: sortable, UTC, millisecond precision.
const timeLayout = "2006-01-02T15:04:05.000Z"
