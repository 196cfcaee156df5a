package dynamo

import (
	"context"
	"errors"
	"strconv"

	"creditanalysis/shared/credit"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Password changes (credit.PasswordStore) use four kinds of items, none
// holding a password:
//
//	item                    PK                                SK                    access pattern
//	lease                   PWLEASE#<integrationId>           PWLEASE               one change at a time (conditional put)
//	change record           PWCHANGES#<integrationId>         <startedAt>#<changeId> history, newest first (Query desc)
//	open change             PWOPEN#<integrationId>            <startedAt>#<changeId> changes to close after a crash (Query)
//	replaced-password hash  PWHIST#<integrationId>#<kind>     <changeId>            "never reused" (Query)
//
// Begin writes the record, the open marker and the hash in one transaction
// conditioned on the lease; Finish updates the record, deletes the marker
// (and the hash of a change that did not apply) in another. A lease carries
// expiresAt, so that DynamoDB's TTL sweeps the ones a crash left behind;
// whether a lease still holds is decided by its leaseUntil, not by the TTL.

var _ credit.PasswordStore = (*Store)(nil)

const (
	passwordLeaseSK = "PWLEASE"
	// leaseTTLSeconds keeps an expired lease a day before the TTL removes it.
	leaseTTLSeconds = 24 * 60 * 60
)

func passwordLeasePK(integrationID string) string   { return "PWLEASE#" + integrationID }
func passwordChangesPK(integrationID string) string { return "PWCHANGES#" + integrationID }
func passwordOpenPK(integrationID string) string    { return "PWOPEN#" + integrationID }
func passwordHashPK(integrationID string, kind credit.CredentialKind) string {
	return "PWHIST#" + integrationID + "#" + string(kind)
}
func passwordChangeSK(c credit.PasswordChange) string { return formatTime(c.StartedAt) + "#" + c.ID }

type passwordLeaseItem struct {
	HolderID   string `dynamodbav:"holderId"`
	Kind       string `dynamodbav:"kind,omitempty"`
	LeaseUntil int64  `dynamodbav:"leaseUntil"`
	ExpiresAt  int64  `dynamodbav:"expiresAt"`
}

type passwordChangeItem struct {
	ID            string    `dynamodbav:"id"`
	IntegrationID string    `dynamodbav:"integrationId"`
	Kind          string    `dynamodbav:"kind"`
	Actor         actorItem `dynamodbav:"actor"`
	RequestID     string    `dynamodbav:"requestId,omitempty"`
	StartedAt     string    `dynamodbav:"startedAt"`
	FinishedAt    string    `dynamodbav:"finishedAt,omitempty"`
	Outcome       string    `dynamodbav:"outcome"`
	ErrorCode     string    `dynamodbav:"errorCode,omitempty"`
	Recovered     bool      `dynamodbav:"recovered"`
	// ReplacedHash is on the open marker only, never on the record.
	ReplacedHash string `dynamodbav:"replacedHash,omitempty"`
}

type passwordHashItem struct {
	ChangeID string `dynamodbav:"changeId"`
	Hash     string `dynamodbav:"hash"`
}

func toPasswordChangeItem(c credit.PasswordChange) passwordChangeItem {
	it := passwordChangeItem{
		ID: c.ID, IntegrationID: c.IntegrationID, Kind: string(c.Kind), Actor: toActorItem(c.Actor), RequestID: c.RequestID,
		StartedAt: formatTime(c.StartedAt), Outcome: string(c.Outcome), ErrorCode: c.ErrorCode, Recovered: c.Recovered,
	}
	if !c.FinishedAt.IsZero() {
		it.FinishedAt = formatTime(c.FinishedAt)
	}
	return it
}

func (it passwordChangeItem) change() credit.PasswordChange {
	c := credit.PasswordChange{
		ID: it.ID, IntegrationID: it.IntegrationID, Kind: credit.CredentialKind(it.Kind), Actor: it.Actor.actor(), RequestID: it.RequestID,
		StartedAt: parseTime(it.StartedAt), Outcome: credit.PasswordChangeOutcome(it.Outcome), ErrorCode: it.ErrorCode,
		Recovered: it.Recovered, ReplacedHash: it.ReplacedHash,
	}
	if it.FinishedAt != "" {
		c.FinishedAt = parseTime(it.FinishedAt)
	}
	return c
}

func (s *Store) AcquirePasswordLease(ctx context.Context, l credit.PasswordLease) error {
	item, err := marshal(passwordLeaseItem{
		HolderID: l.HolderID, Kind: string(l.Kind), LeaseUntil: l.Until.UnixMilli(), ExpiresAt: l.Until.Unix() + leaseTTLSeconds,
	}, map[string]string{attrPK: passwordLeasePK(l.IntegrationID), attrSK: passwordLeaseSK})
	if err != nil {
		return err
	}
	_, err = s.Client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                           aws.String(s.Table),
		Item:                                item,
		ConditionExpression:                 aws.String("attribute_not_exists(PK) OR holderId = :holder OR leaseUntil < :now"),
		ExpressionAttributeValues:           map[string]types.AttributeValue{":holder": &types.AttributeValueMemberS{Value: l.HolderID}, ":now": leaseMillis(s.now().UnixMilli())},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var ccf *types.ConditionalCheckFailedException
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ccf):
		var held passwordLeaseItem
		_ = attributevalue.UnmarshalMap(ccf.Item, &held)
		return credit.ErrPasswordChangeInProgress(credit.CredentialKind(held.Kind))
	default:
		return credit.Internal(err, "dynamo: acquire password lease %s", l.IntegrationID)
	}
}

func (s *Store) ReleasePasswordLease(ctx context.Context, integrationID, holderID string) error {
	_, err := s.Client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 aws.String(s.Table),
		Key:                       key(passwordLeasePK(integrationID), passwordLeaseSK),
		ConditionExpression:       aws.String("holderId = :holder"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":holder": &types.AttributeValueMemberS{Value: holderID}},
	})
	if err != nil && !isConditionFailed(err) {
		return credit.Internal(err, "dynamo: release password lease %s", integrationID)
	}
	return nil
}

func (s *Store) BeginPasswordChange(ctx context.Context, c credit.PasswordChange) error {
	c.Outcome, c.ErrorCode, c.Recovered = credit.PasswordChangeRunning, "", false
	record := toPasswordChangeItem(c)
	recordAV, err := marshal(record, map[string]string{attrPK: passwordChangesPK(c.IntegrationID), attrSK: passwordChangeSK(c)})
	if err != nil {
		return err
	}
	open := record
	open.ReplacedHash = c.ReplacedHash
	openAV, err := marshal(open, map[string]string{attrPK: passwordOpenPK(c.IntegrationID), attrSK: passwordChangeSK(c)})
	if err != nil {
		return err
	}
	hashAV, err := marshal(passwordHashItem{ChangeID: c.ID, Hash: c.ReplacedHash}, map[string]string{attrPK: passwordHashPK(c.IntegrationID, c.Kind), attrSK: c.ID})
	if err != nil {
		return err
	}
	absent := aws.String("attribute_not_exists(PK)")
	err = s.transact(ctx, []types.TransactWriteItem{
		{ConditionCheck: &types.ConditionCheck{
			TableName: aws.String(s.Table), Key: key(passwordLeasePK(c.IntegrationID), passwordLeaseSK),
			ConditionExpression:       aws.String("holderId = :holder AND leaseUntil > :now"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":holder": &types.AttributeValueMemberS{Value: c.ID}, ":now": leaseMillis(s.now().UnixMilli())},
		}},
		{Put: &types.Put{TableName: aws.String(s.Table), Item: recordAV, ConditionExpression: absent}},
		{Put: &types.Put{TableName: aws.String(s.Table), Item: openAV, ConditionExpression: absent}},
		{Put: &types.Put{TableName: aws.String(s.Table), Item: hashAV, ConditionExpression: absent}},
	})
	switch {
	case err == nil:
		return nil
	case isConditionFailed(err):
		if codes := cancellationCodes(err); len(codes) > 0 && codes[0] == "ConditionalCheckFailed" {
			return credit.ErrPasswordChangeInProgress("")
		}
		return credit.Internal(err, "dynamo: password change %s already recorded", c.ID)
	default:
		return credit.Internal(err, "dynamo: begin password change")
	}
}

func (s *Store) FinishPasswordChange(ctx context.Context, c credit.PasswordChange) error {
	values := map[string]types.AttributeValue{
		":outcome":   &types.AttributeValueMemberS{Value: string(c.Outcome)},
		":running":   &types.AttributeValueMemberS{Value: string(credit.PasswordChangeRunning)},
		":finished":  &types.AttributeValueMemberS{Value: formatTime(c.FinishedAt)},
		":recovered": &types.AttributeValueMemberBOOL{Value: c.Recovered},
	}
	expr := "SET outcome = :outcome, finishedAt = :finished, recovered = :recovered"
	if c.ErrorCode != "" {
		expr += ", errorCode = :code"
		values[":code"] = &types.AttributeValueMemberS{Value: c.ErrorCode}
	}
	items := []types.TransactWriteItem{
		{Update: &types.Update{
			TableName: aws.String(s.Table), Key: key(passwordChangesPK(c.IntegrationID), passwordChangeSK(c)),
			UpdateExpression:          aws.String(expr),
			ConditionExpression:       aws.String("outcome = :running"),
			ExpressionAttributeValues: values,
		}},
		{Delete: &types.Delete{TableName: aws.String(s.Table), Key: key(passwordOpenPK(c.IntegrationID), passwordChangeSK(c))}},
	}
	if c.Outcome != credit.PasswordChanged {
		// Nothing changed: the replaced password is still the current one.
		items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String(s.Table), Key: key(passwordHashPK(c.IntegrationID, c.Kind), c.ID)}})
	}
	err := s.transact(ctx, items)
	if err == nil {
		return nil
	}
	if !isConditionFailed(err) {
		return credit.Internal(err, "dynamo: finish password change %s", c.ID)
	}
	// Finished already (the first finish wins), or never begun.
	var it passwordChangeItem
	found, gerr := s.getItem(ctx, passwordChangesPK(c.IntegrationID), passwordChangeSK(c), &it)
	switch {
	case gerr != nil:
		return gerr
	case !found:
		return credit.Internal(errors.New("no such change"), "dynamo: finish password change %s", c.ID)
	}
	return nil
}

func (s *Store) OpenPasswordChanges(ctx context.Context, integrationID string) ([]credit.PasswordChange, error) {
	var items []passwordChangeItem
	err := s.queryPasswordItems(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(s.Table),
		KeyConditionExpression:    aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: passwordOpenPK(integrationID)}},
		ConsistentRead:            aws.Bool(true),
	}, &items)
	if err != nil {
		return nil, err
	}
	out := make([]credit.PasswordChange, len(items))
	for i, it := range items {
		out[i] = it.change()
	}
	return out, nil
}

func (s *Store) PasswordHashes(ctx context.Context, integrationID string, kind credit.CredentialKind) ([]string, error) {
	var items []passwordHashItem
	err := s.queryPasswordItems(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(s.Table),
		KeyConditionExpression:    aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: passwordHashPK(integrationID, kind)}},
		ProjectionExpression:      aws.String("changeId, #hash"),
		ExpressionAttributeNames:  map[string]string{"#hash": "hash"},
		ConsistentRead:            aws.Bool(true),
	}, &items)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.Hash
	}
	return out, nil
}

func (s *Store) ListPasswordChanges(ctx context.Context, integrationID string, p credit.Page) ([]credit.PasswordChange, string, error) {
	pk := passwordChangesPK(integrationID)
	start, err := decodeCursor(p.Cursor, attrPK, attrSK)
	if err != nil {
		return nil, "", err
	}
	if start != nil {
		// A cursor of another integration's list is not this list's.
		if v, ok := start[attrPK].(*types.AttributeValueMemberS); !ok || v.Value != pk {
			return nil, "", credit.ErrInvalidCursor
		}
	}
	res, err := s.Client.Query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(s.Table),
		KeyConditionExpression:    aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: pk}},
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(int32(p.Normalized().Limit)),
		ExclusiveStartKey:         start,
	})
	if err != nil {
		return nil, "", queryError(err, "list password changes")
	}
	var items []passwordChangeItem
	if err := attributevalue.UnmarshalListOfMaps(res.Items, &items); err != nil {
		return nil, "", credit.Internal(err, "dynamo: decode password changes")
	}
	out := make([]credit.PasswordChange, len(items))
	for i, it := range items {
		out[i] = it.change()
		out[i].ReplacedHash = ""
	}
	return out, encodeCursor(res.LastEvaluatedKey), nil
}

// queryPasswordItems runs in page after page and decodes every item into out.
func (s *Store) queryPasswordItems(ctx context.Context, in *dynamodb.QueryInput, out any) error {
	var all []map[string]types.AttributeValue
	p := dynamodb.NewQueryPaginator(s.Client, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return credit.Internal(err, "dynamo: query %s", aws.ToString(in.KeyConditionExpression))
		}
		all = append(all, page.Items...)
	}
	if err := attributevalue.UnmarshalListOfMaps(all, out); err != nil {
		return credit.Internal(err, "dynamo: decode query")
	}
	return nil
}

func leaseMillis(ms int64) *types.AttributeValueMemberN {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(ms, 10)}
}
