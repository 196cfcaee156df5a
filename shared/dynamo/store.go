package dynamo

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"time"

	"creditanalysis/shared/credit"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Store implements the domain's store ports on one DynamoDB table.
type Store struct {
	Client *dynamodb.Client
	Table  string
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// New returns a Store on table using client (built once per cold start).
func New(client *dynamodb.Client, table string) *Store {
	return &Store{Client: client, Table: table}
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		attrPK: &types.AttributeValueMemberS{Value: pk},
		attrSK: &types.AttributeValueMemberS{Value: sk},
	}
}

// getItem reads one item into out; found is false when it does not exist.
func (s *Store) getItem(ctx context.Context, pk, sk string, out any) (found bool, err error) {
	res, err := s.Client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.Table),
		Key:            key(pk, sk),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return false, credit.Internal(err, "dynamo: get %s/%s", pk, sk)
	}
	if res.Item == nil {
		return false, nil
	}
	if err := attributevalue.UnmarshalMap(res.Item, out); err != nil {
		return false, credit.Internal(err, "dynamo: decode %s/%s", pk, sk)
	}
	return true, nil
}

// marshal encodes v as an item and sets its keys.
func marshal(v any, keys map[string]string) (map[string]types.AttributeValue, error) {
	item, err := attributevalue.MarshalMap(v)
	if err != nil {
		return nil, credit.Internal(err, "dynamo: encode item")
	}
	for k, val := range keys {
		if val != "" {
			item[k] = &types.AttributeValueMemberS{Value: val}
		}
	}
	return item, nil
}

// isConditionFailed reports whether err is a failed condition, alone or as
// the reason of a cancelled transaction.
func isConditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return true
	}
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		for _, r := range tce.CancellationReasons {
			if aws.ToString(r.Code) == "ConditionalCheckFailed" {
				return true
			}
		}
	}
	return false
}

// cancellationCodes lists why each item of a cancelled transaction failed
// ("None" for the ones that did not).
func cancellationCodes(err error) []string {
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		return nil
	}
	codes := make([]string, len(tce.CancellationReasons))
	for i, r := range tce.CancellationReasons {
		codes[i] = aws.ToString(r.Code)
	}
	return codes
}

// encodeCursor turns a LastEvaluatedKey into an opaque cursor ("" when the
// list is over).
func encodeCursor(lek map[string]types.AttributeValue) string {
	if len(lek) == 0 {
		return ""
	}
	m := make(map[string]string, len(lek))
	for k, v := range lek {
		if s, ok := v.(*types.AttributeValueMemberS); ok {
			m[k] = s.Value
		}
	}
	b, _ := json.Marshal(m)
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor reverses encodeCursor; allowed names the key attributes the
// cursor of this query may carry.
func decodeCursor(c string, allowed ...string) (map[string]types.AttributeValue, error) {
	if c == "" {
		return nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return nil, credit.ErrInvalidCursor
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil || len(m) == 0 {
		return nil, credit.ErrInvalidCursor
	}
	ok := map[string]bool{}
	for _, a := range allowed {
		ok[a] = true
	}
	out := make(map[string]types.AttributeValue, len(m))
	for k, v := range m {
		if !ok[k] {
			return nil, credit.ErrInvalidCursor
		}
		out[k] = &types.AttributeValueMemberS{Value: v}
	}
	return out, nil
}
