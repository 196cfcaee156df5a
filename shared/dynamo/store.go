package dynamo

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"slices"
	"sync"
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
	// AuditRetention is how long audit events live before the TTL removes
	// them (DefaultAuditRetention when zero).
	AuditRetention time.Duration

	// monthsListed are the months this process has listed among the
	// consultations' months (CreateConsultation), so that it lists each
	// once: the list only grows.
	monthsListed sync.Map
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
		return false, keyError(err, "get", pk, sk)
	}
	if res.Item == nil {
		return false, nil
	}
	if err := attributevalue.UnmarshalMap(res.Item, out); err != nil {
		return false, keyError(err, "decode", pk, sk)
	}
	return true, nil
}

// marshal encodes v as an item and sets its keys.
func marshal(v any, keys map[string]string) (map[string]types.AttributeValue, error) {
	item, err := encodeItem(v)
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

// encodeJSONCursor makes an opaque cursor of any small value, for lists
// whose position is more than one LastEvaluatedKey.
func encodeJSONCursor(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeJSONCursor reverses encodeJSONCursor, refusing anything this
// package did not write (unknown fields, trailing data).
func decodeJSONCursor(c string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return credit.ErrInvalidCursor
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if dec.Decode(v) != nil || dec.More() {
		return credit.ErrInvalidCursor
	}
	return nil
}

// decodeCursor reverses encodeCursor; allowed names the key attributes the
// cursor of this query may carry.
func decodeCursor(c string, allowed ...string) (map[string]types.AttributeValue, error) {
	if c == "" {
		return nil, nil
	}
	var m map[string]string
	if err := decodeJSONCursor(c, &m); err != nil || len(m) == 0 {
		return nil, credit.ErrInvalidCursor
	}
	return cursorKey(m, allowed...)
}

// cursorKey turns a decoded cursor key back into attribute values, refusing
// attributes the query never returns.
func cursorKey(k map[string]string, allowed ...string) (map[string]types.AttributeValue, error) {
	if len(k) == 0 {
		return nil, nil
	}
	out := make(map[string]types.AttributeValue, len(k))
	for name, v := range k {
		if !slices.Contains(allowed, name) {
			return nil, credit.ErrInvalidCursor
		}
		out[name] = &types.AttributeValueMemberS{Value: v}
	}
	return out, nil
}

type actorItem struct {
	Subject string `dynamodbav:"sub,omitempty"`
	Name    string `dynamodbav:"name,omitempty"`
}

// encodeItem is attributevalue.MarshalMap without empty maps, at any
// depth: DynamoDB Local's stream gives an empty map no type at all, which no
// reader of the stream can decode, and an absent map reads back as the
// zero value all the same. Every item put goes through marshal, and so here.
func encodeItem(v any) (map[string]types.AttributeValue, error) {
	item, err := attributevalue.MarshalMap(v)
	if err != nil {
		return nil, err
	}
	dropEmptyMaps(item)
	return item, nil
}

func dropEmptyMaps(m map[string]types.AttributeValue) {
	for k, v := range m {
		switch x := v.(type) {
		case *types.AttributeValueMemberM:
			dropEmptyMaps(x.Value)
			if len(x.Value) == 0 {
				delete(m, k)
			}
		case *types.AttributeValueMemberL:
			for _, e := range x.Value {
				if em, ok := e.(*types.AttributeValueMemberM); ok {
					dropEmptyMaps(em.Value)
				}
			}
		}
	}
}

func toActorItem(a credit.Actor) actorItem { return actorItem{Subject: a.Subject, Name: a.Name} }
func (a actorItem) actor() credit.Actor    { return credit.Actor{Subject: a.Subject, Name: a.Name} }
func formatTime(t time.Time) string        { return t.UTC().Format(timeLayout) }
func parseTime(s string) time.Time         { t, _ := time.Parse(timeLayout, s); return t }

// transact runs a transaction, retrying a few times when DynamoDB cancels it
// only because it collided with another transaction on the same items, so
// that concurrent requests end with a definite winner instead of all losing.
func (s *Store) transact(ctx context.Context, items []types.TransactWriteItem) error {
	var err error
	for attempt := 0; attempt < 6; attempt++ {
		_, err = s.Client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		if err == nil || isConditionFailed(err) || !isTransactionConflict(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(10+rand.IntN(40)<<attempt) * time.Millisecond):
		}
	}
	return err
}

func isTransactionConflict(err error) bool {
	var tce *types.TransactionCanceledException
	var conflict *types.TransactionConflictException
	if errors.As(err, &conflict) {
		return true
	}
	if errors.As(err, &tce) {
		for _, r := range tce.CancellationReasons {
			if aws.ToString(r.Code) == "TransactionConflict" {
				return true
			}
		}
	}
	return false
}

// queryError maps a query failure: a cursor that does not fit the query is
// the caller's mistake, anything else is internal.
func queryError(err error, what string) error {
	var ve interface{ ErrorCode() string }
	if errors.As(err, &ve) && ve.ErrorCode() == "ValidationException" {
		return credit.ErrInvalidCursor
	}
	return credit.Internal(redactedError{err}, "dynamo: %s", what)
}

// queryPage runs one page of a query and converts its items with conv,
// returning the cursor of the next page ("" on the last).
func queryPage[I, T any](ctx context.Context, s *Store, in *dynamodb.QueryInput, what string, conv func(I) T) ([]T, string, error) {
	in.TableName = aws.String(s.Table)
	res, err := s.Client.Query(ctx, in)
	if err != nil {
		return nil, "", queryError(err, what)
	}
	var items []I
	if err := attributevalue.UnmarshalListOfMaps(res.Items, &items); err != nil {
		return nil, "", credit.Internal(err, "dynamo: decode %s", what)
	}
	out := make([]T, len(items))
	for k, it := range items {
		out[k] = conv(it)
	}
	return out, encodeCursor(res.LastEvaluatedKey), nil
}
