package dynamo

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"creditanalysis/shared/credit"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Idempotency keys (credit.IdempotencyStore) use one item per key, and for
// an answer too large for it, the answer's parts beside it:
//
//	item         PK                              SK                      access pattern
//	key          IDEMPOTENCY#<sha256(sub, key)>  IDEMPOTENCY             claim, answer, release (conditional writes)
//	answer part  IDEMPOTENCY#<sha256(sub, key)>  IDEMPOTENCY#PART#<nnn>  read with the key (Query)
//
// The partition is a hash of the caller and the key, so that neither a
// caller's subject nor a key's characters can make two keys collide. The
// key item holds the request's fingerprint (never the request), the
// attempt holding it and its lease; once answered, the answer's status,
// headers and gzipped body. A body that does not fit one item is split into
// parts written in the same transaction that marks the key answered; each
// part names its writer, so that parts left by an expired answer are never
// mixed in. Every item carries expiresAt, the table's TTL; whether a key
// still holds is decided by expiresAt and leaseUntil, not by the TTL's
// sweep, which may lag.

var _ credit.IdempotencyStore = (*Store)(nil)

const (
	idempotencySK     = "IDEMPOTENCY"
	idempotencyPartSK = "IDEMPOTENCY#PART#"
	// idempotencyInline is the largest gzipped body kept in the key's own
	// item, and the size of each part of a larger one: well under the
	// 400 KB item limit.
	idempotencyInline = 300 << 10
	// idempotencyMaxParts keeps a transaction under DynamoDB's 4 MB.
	idempotencyMaxParts = 12
)

func idempotencyPK(caller, key string) string {
	h := sha256.Sum256([]byte(caller + "\x00" + key))
	return "IDEMPOTENCY#" + hex.EncodeToString(h[:])
}

type idempotencyItem struct {
	Caller      string `dynamodbav:"sub"`
	Fingerprint string `dynamodbav:"fingerprint"`
	Holder      string `dynamodbav:"holder"`
	LeaseUntil  int64  `dynamodbav:"leaseUntil"`
	ExpiresAt   int64  `dynamodbav:"expiresAt"`
	// The answer, once there is one.
	AnswerStatus int    `dynamodbav:"answerStatus,omitempty"`
	Header       string `dynamodbav:"answerHeader,omitempty"`
	Body         []byte `dynamodbav:"answerBody,omitempty"`
	Parts        int    `dynamodbav:"answerParts,omitempty"`
	// AuditTarget is the first request's audit event's target.
	AuditTarget map[string]string `dynamodbav:"answerAuditTarget,omitempty"`
}

type idempotencyPartItem struct {
	Holder    string `dynamodbav:"holder"`
	Body      []byte `dynamodbav:"answerBody"`
	ExpiresAt int64  `dynamodbav:"expiresAt"`
}

func (s *Store) BeginIdempotency(ctx context.Context, c credit.IdempotencyClaim) (*credit.IdempotentResponse, error) {
	pk := idempotencyPK(c.Caller, c.Key)
	item, err := marshal(idempotencyItem{
		Caller: c.Caller, Fingerprint: c.Fingerprint, Holder: c.Holder,
		LeaseUntil: c.LeaseUntil.UnixMilli(), ExpiresAt: c.ExpiresAt.Unix(),
	}, map[string]string{attrPK: pk, attrSK: idempotencySK})
	if err != nil {
		return nil, err
	}
	now := s.now()
	_, err = s.Client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.Table),
		Item:      item,
		// Free: no key, an expired one, or an unanswered one whose lease
		// has passed.
		ConditionExpression:      aws.String("attribute_not_exists(PK) OR #exp <= :nowS OR (attribute_not_exists(#status) AND #lease <= :nowMs)"),
		ExpressionAttributeNames: map[string]string{"#exp": attrTTL, "#status": "answerStatus", "#lease": "leaseUntil"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":nowS": numberValue(now.Unix()), ":nowMs": numberValue(now.UnixMilli()),
		},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var ccf *types.ConditionalCheckFailedException
	switch {
	case err == nil:
		return nil, nil
	case !errors.As(err, &ccf):
		return nil, credit.Internal(err, "dynamo: claim idempotency key")
	}
	if len(ccf.Item) == 0 {
		// The key existed but its item did not come back: nothing to
		// compare, so nothing may run.
		return nil, credit.ErrRequestInProgress
	}
	var held idempotencyItem
	if err := attributevalue.UnmarshalMap(ccf.Item, &held); err != nil {
		return nil, credit.Internal(err, "dynamo: decode idempotency key")
	}
	switch {
	case held.Fingerprint != c.Fingerprint:
		return nil, credit.ErrIdempotencyKeyReused
	case held.AnswerStatus == 0:
		return nil, credit.ErrRequestInProgress
	}
	return s.idempotentAnswer(ctx, pk, held)
}

// idempotentAnswer rebuilds the answer kept in held, reading its parts
// when it has some.
func (s *Store) idempotentAnswer(ctx context.Context, pk string, held idempotencyItem) (*credit.IdempotentResponse, error) {
	r := &credit.IdempotentResponse{Status: held.AnswerStatus, AuditTarget: held.AuditTarget}
	if held.Header != "" {
		if err := json.Unmarshal([]byte(held.Header), &r.Header); err != nil {
			return nil, credit.Internal(err, "dynamo: decode idempotent answer's header")
		}
	}
	gz := held.Body
	if held.Parts > 0 {
		parts := make([][]byte, held.Parts)
		in := &dynamodb.QueryInput{
			TableName:              aws.String(s.Table),
			KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :part)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":pk": &types.AttributeValueMemberS{Value: pk}, ":part": &types.AttributeValueMemberS{Value: idempotencyPartSK},
			},
			ConsistentRead: aws.Bool(true),
		}
		for {
			res, err := s.Client.Query(ctx, in)
			if err != nil {
				return nil, credit.Internal(err, "dynamo: read idempotent answer")
			}
			for _, av := range res.Items {
				var part idempotencyPartItem
				if err := attributevalue.UnmarshalMap(av, &part); err != nil {
					return nil, credit.Internal(err, "dynamo: decode idempotent answer part")
				}
				var n int
				sk, _ := av[attrSK].(*types.AttributeValueMemberS)
				if sk == nil || part.Holder != held.Holder {
					continue // a part of an expired answer
				}
				if _, err := fmt.Sscanf(strings.TrimPrefix(sk.Value, idempotencyPartSK), "%d", &n); err == nil && n >= 0 && n < len(parts) {
					parts[n] = part.Body
				}
			}
			if len(res.LastEvaluatedKey) == 0 {
				break
			}
			in.ExclusiveStartKey = res.LastEvaluatedKey
		}
		for n, p := range parts {
			if p == nil {
				return nil, credit.Internal(fmt.Errorf("part %d of %d missing", n, len(parts)), "dynamo: read idempotent answer")
			}
		}
		gz = bytes.Join(parts, nil)
	}
	if len(gz) > 0 {
		zr, err := gzip.NewReader(bytes.NewReader(gz))
		if err != nil {
			return nil, credit.Internal(err, "dynamo: decompress idempotent answer")
		}
		if r.Body, err = io.ReadAll(zr); err != nil {
			return nil, credit.Internal(err, "dynamo: decompress idempotent answer")
		}
	}
	return r, nil
}

func (s *Store) CompleteIdempotency(ctx context.Context, c credit.IdempotencyClaim, r credit.IdempotentResponse) error {
	pk := idempotencyPK(c.Caller, c.Key)
	var gz []byte
	if len(r.Body) > 0 {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		_, _ = zw.Write(r.Body)
		if err := zw.Close(); err != nil {
			return credit.Internal(err, "dynamo: compress idempotent answer")
		}
		gz = buf.Bytes()
	}
	header := ""
	if len(r.Header) > 0 {
		b, err := json.Marshal(r.Header)
		if err != nil {
			return credit.Internal(err, "dynamo: encode idempotent answer's header")
		}
		header = string(b)
	}
	expires := c.ExpiresAt.Unix()
	names := map[string]string{"#holder": "holder", "#status": "answerStatus", "#exp": attrTTL}
	values := map[string]types.AttributeValue{
		":holder": &types.AttributeValueMemberS{Value: c.Holder},
		":status": &types.AttributeValueMemberN{Value: strconv.Itoa(r.Status)},
		":exp":    numberValue(expires),
	}
	set := []string{"#status = :status", "#exp = :exp"}
	if header != "" {
		set = append(set, "#header = :header")
		names["#header"], values[":header"] = "answerHeader", &types.AttributeValueMemberS{Value: header}
	}
	if len(r.AuditTarget) > 0 {
		av, err := attributevalue.Marshal(r.AuditTarget)
		if err != nil {
			return credit.Internal(err, "dynamo: encode idempotent answer's audit target")
		}
		set = append(set, "#target = :target")
		names["#target"], values[":target"] = "answerAuditTarget", av
	}
	var parts [][]byte
	switch {
	case len(gz) > idempotencyInline*idempotencyMaxParts:
		return credit.Internal(fmt.Errorf("%d bytes gzipped", len(gz)), "dynamo: idempotent answer too large to keep")
	case len(gz) > idempotencyInline:
		for len(gz) > 0 {
			n := min(len(gz), idempotencyInline)
			parts, gz = append(parts, gz[:n]), gz[n:]
		}
		set = append(set, "#parts = :parts")
		names["#parts"], values[":parts"] = "answerParts", &types.AttributeValueMemberN{Value: strconv.Itoa(len(parts))}
	case len(gz) > 0:
		set = append(set, "#body = :body")
		names["#body"], values[":body"] = "answerBody", &types.AttributeValueMemberB{Value: gz}
	}
	// Only the attempt holding an unanswered claim answers it.
	update := &types.Update{
		TableName:                 aws.String(s.Table),
		Key:                       key(pk, idempotencySK),
		UpdateExpression:          aws.String("SET " + strings.Join(set, ", ")),
		ConditionExpression:       aws.String("#holder = :holder AND attribute_not_exists(#status)"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	}
	var err error
	if len(parts) == 0 {
		_, err = s.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: update.TableName, Key: update.Key, UpdateExpression: update.UpdateExpression,
			ConditionExpression: update.ConditionExpression, ExpressionAttributeNames: update.ExpressionAttributeNames,
			ExpressionAttributeValues: update.ExpressionAttributeValues,
		})
	} else {
		items := []types.TransactWriteItem{{Update: update}}
		for n, p := range parts {
			av, err := marshal(idempotencyPartItem{Holder: c.Holder, Body: p, ExpiresAt: expires},
				map[string]string{attrPK: pk, attrSK: fmt.Sprintf("%s%03d", idempotencyPartSK, n)})
			if err != nil {
				return err
			}
			items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: aws.String(s.Table), Item: av}})
		}
		err = s.transact(ctx, items)
	}
	switch {
	case err == nil:
		return nil
	case isConditionFailed(err):
		return credit.ErrRequestInProgress
	default:
		return credit.Internal(err, "dynamo: keep idempotent answer")
	}
}

func (s *Store) ReleaseIdempotency(ctx context.Context, c credit.IdempotencyClaim) error {
	_, err := s.Client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 aws.String(s.Table),
		Key:                       key(idempotencyPK(c.Caller, c.Key), idempotencySK),
		ConditionExpression:       aws.String("#holder = :holder AND attribute_not_exists(#status)"),
		ExpressionAttributeNames:  map[string]string{"#holder": "holder", "#status": "answerStatus"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":holder": &types.AttributeValueMemberS{Value: c.Holder}},
	})
	if err != nil && !isConditionFailed(err) {
		return credit.Internal(err, "dynamo: release idempotency key")
	}
	return nil
}

func numberValue(n int64) *types.AttributeValueMemberN {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}
