package dynamo

import (
	"context"
	"errors"
	"time"

	"creditanalysis/shared/credit"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// batchGet reads items by key, 100 per call, consistently, retrying what
// DynamoDB leaves unprocessed. The answer is in no particular order.
//
// A key asked twice is read once: BatchGetItem refuses a call that names a
// key twice, and the keys often come from eventually consistent indexes,
// where a record that just changed partition can be listed under both.
func (s *Store) batchGet(ctx context.Context, keys []map[string]types.AttributeValue) ([]map[string]types.AttributeValue, error) {
	keys = distinctKeys(keys)
	var out []map[string]types.AttributeValue
	for start := 0; start < len(keys); start += 100 {
		pending := map[string]types.KeysAndAttributes{s.Table: {Keys: keys[start:min(start+100, len(keys))], ConsistentRead: aws.Bool(true)}}
		for attempt := 0; len(pending) > 0; attempt++ {
			if attempt > 0 {
				if attempt > 8 {
					return nil, credit.Internal(errors.New("unprocessed keys remain"), "dynamo: batch get")
				}
				select {
				case <-ctx.Done():
					return nil, credit.Internal(ctx.Err(), "dynamo: batch get")
				case <-time.After(time.Duration(10<<attempt) * time.Millisecond):
				}
			}
			res, err := s.Client.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: pending})
			if err != nil {
				return nil, credit.Internal(err, "dynamo: batch get")
			}
			out = append(out, res.Responses[s.Table]...)
			pending = res.UnprocessedKeys
		}
	}
	return out, nil
}

// distinctKeys keeps the first of each (PK, SK) pair, in order.
func distinctKeys(keys []map[string]types.AttributeValue) []map[string]types.AttributeValue {
	seen := make(map[[2]string]bool, len(keys))
	out := make([]map[string]types.AttributeValue, 0, len(keys))
	for _, k := range keys {
		id := [2]string{avString(k[attrPK]), avString(k[attrSK])}
		if !seen[id] {
			seen[id] = true
			out = append(out, k)
		}
	}
	return out
}
