package dynamo

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"creditanalysis/shared/credit"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Audit trail items.
//
//	PK  AUDIT#<yyyy-mm-dd>        SK <at>#<id>     the day's events, in order
//	GSI1 AUDITTARGET#<targetId>   <at>#<id>        by the record touched (the first of AuditEvent.TargetIDs)
//	GSI2 AUDITACTOR#<sub>         <at>#<id>        by actor
//	GSI3 AUDITACTION#<action>     <at>#<id>        by action
//
//	PK  AUDITSHOWN#<id>  SK <targetId>  GSI1 AUDITTARGET#<targetId>  <at>#<id>
//	    a copy of the event for each further record a list showed
//	    (AuditEvent.TargetIDs), so that a target's read finds it too
//
// Day partitions spread the writes; an unfiltered read walks the days of the
// period from the newest, and reads by actor or action find the event
// itself, never its copies. Items expire through the table's TTL after
// AuditRetention.

var _ credit.AuditLog = (*Store)(nil)

// DefaultAuditRetention keeps events for five years (the bureau's own horizon
// for a debt) unless configured otherwise.
const DefaultAuditRetention = 5 * 365 * 24 * time.Hour

type auditItem struct {
	ID        string            `dynamodbav:"id"`
	At        string            `dynamodbav:"at"`
	Actor     actorItem         `dynamodbav:"actor"`
	Action    string            `dynamodbav:"action"`
	Target    map[string]string `dynamodbav:"target,omitempty"`
	RequestID string            `dynamodbav:"requestId"`
	Status    int               `dynamodbav:"status"`
	Code      string            `dynamodbav:"code,omitempty"`
	ExpiresAt int64             `dynamodbav:"expiresAt"`
}

func auditDayPK(t time.Time) string { return "AUDIT#" + t.UTC().Format(time.DateOnly) }

func (s *Store) auditRetention() time.Duration {
	if s.AuditRetention > 0 {
		return s.AuditRetention
	}
	return DefaultAuditRetention
}

// AppendAudit puts the event, and with it a copy for each further record a
// list showed (at most a page's, 25 to a batch, the batches at once).
func (s *Store) AppendAudit(ctx context.Context, e credit.AuditEvent) error {
	item, err := s.auditItem(e)
	if err != nil {
		return err
	}
	shown, err := s.auditShownItems(e)
	if err != nil {
		return err
	}
	if len(shown) == 0 {
		if _, err := s.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.Table), Item: item}); err != nil {
			return credit.Internal(err, "dynamo: append audit event")
		}
		return nil
	}
	writes := []types.WriteRequest{{PutRequest: &types.PutRequest{Item: item}}}
	for _, it := range shown {
		writes = append(writes, types.WriteRequest{PutRequest: &types.PutRequest{Item: it}})
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for chunk := range slices.Chunk(writes, 25) {
		wg.Go(func() {
			if err := s.batchWrite(ctx, chunk); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// auditItem is e as the trail stores it.
func (s *Store) auditItem(e credit.AuditEvent) (map[string]types.AttributeValue, error) {
	sk := formatTime(e.At) + "#" + e.ID
	keys := map[string]string{attrPK: auditDayPK(e.At), attrSK: sk, "GSI3PK": "AUDITACTION#" + e.Action, "GSI3SK": sk}
	if e.Actor.Subject != "" {
		keys["GSI2PK"], keys["GSI2SK"] = "AUDITACTOR#"+e.Actor.Subject, sk
	}
	if ids := e.TargetIDs(); len(ids) > 0 {
		keys["GSI1PK"], keys["GSI1SK"] = "AUDITTARGET#"+ids[0], sk
	}
	return marshal(s.auditAttrs(e), keys)
}

// auditShownItems are the event's copies under the further records a list
// showed: in the target index only.
func (s *Store) auditShownItems(e credit.AuditEvent) ([]map[string]types.AttributeValue, error) {
	ids := e.TargetIDs()
	if len(ids) < 2 {
		return nil, nil // the event itself is found by the first
	}
	ids = ids[1:]
	sk := formatTime(e.At) + "#" + e.ID
	items := make([]map[string]types.AttributeValue, 0, len(ids))
	for _, id := range ids {
		item, err := marshal(s.auditAttrs(e), map[string]string{
			attrPK: "AUDITSHOWN#" + e.ID, attrSK: id, "GSI1PK": "AUDITTARGET#" + id, "GSI1SK": sk,
		})
		if err != nil {
			return nil, err
		}
		items = append(items, item)
	}
	return items, nil
}

func (s *Store) auditAttrs(e credit.AuditEvent) auditItem {
	return auditItem{
		ID: e.ID, At: formatTime(e.At), Actor: toActorItem(e.Actor), Action: e.Action, Target: e.Target,
		RequestID: e.RequestID, Status: e.Outcome.Status, Code: e.Outcome.Code,
		ExpiresAt: e.At.Add(s.auditRetention()).Unix(),
	}
}

// auditCursor remembers the day partition being read and where in it.
type auditCursor struct {
	Day string            `json:"d,omitempty"`
	Key map[string]string `json:"k,omitempty"`
}

// ListAudit reads newest first. With a target, an actor or an action it
// queries the first of those indexes over [From, To), the others filtering
// it; otherwise it walks day partitions from To back to From (default: the
// last 30 days).
func (s *Store) ListAudit(ctx context.Context, f credit.AuditFilter, p credit.Page) ([]credit.AuditEvent, string, error) {
	p = p.Normalized()
	to := f.To
	if to.IsZero() {
		to = s.now().Add(time.Millisecond)
	}
	from := f.From
	if from.IsZero() {
		from = to.Add(-30 * 24 * time.Hour)
	}
	lo, hi := formatTime(from), formatTime(to)
	var cur auditCursor
	if p.Cursor != "" {
		if err := decodeJSONCursor(p.Cursor, &cur); err != nil || (cur.Day == "" && len(cur.Key) == 0) {
			return nil, "", credit.ErrInvalidCursor
		}
	}

	values := map[string]types.AttributeValue{":lo": avS(lo), ":hi": avS(hi)}
	var filters []string
	names := map[string]string{}
	index, pk := "", ""
	switch {
	case f.TargetID != "":
		index, pk = "GSI1", "AUDITTARGET#"+f.TargetID
	case f.Actor != "":
		index, pk = "GSI2", "AUDITACTOR#"+f.Actor
	case f.Action != "":
		index, pk = "GSI3", "AUDITACTION#"+f.Action
	}
	if f.Actor != "" && index != "GSI2" {
		// The attribute, not the index key: an event's copies have none.
		filters = append(filters, "#actor.#sub = :actor")
		names["#actor"], names["#sub"] = "actor", "sub"
		values[":actor"] = avS(f.Actor)
	}
	if f.Action != "" && index != "GSI3" {
		filters = append(filters, "#action = :action")
		names["#action"] = "action"
		values[":action"] = avS(f.Action)
	}
	filterExpr := joinAnd(filters)

	if index != "" {
		values[":pk"] = avS(pk)
		start, err := cursorKey(cur.Key, attrPK, attrSK, index+"PK", index+"SK")
		if err != nil {
			return nil, "", err
		}
		items, lek, err := s.queryAudit(ctx, &dynamodb.QueryInput{
			IndexName:              aws.String(index),
			KeyConditionExpression: aws.String(index + "PK = :pk AND " + index + "SK BETWEEN :lo AND :hi"),
			ExclusiveStartKey:      start,
		}, values, names, filterExpr, p.Limit)
		if err != nil {
			return nil, "", err
		}
		next := ""
		if lek != nil {
			next = encodeJSONCursor(auditCursor{Key: lek})
		}
		return items, next, nil
	}

	day := to.UTC().Truncate(24 * time.Hour)
	if cur.Day != "" {
		d, err := time.Parse(time.DateOnly, cur.Day)
		if err != nil || d.After(day) || d.Before(from.UTC().Truncate(24*time.Hour)) {
			return nil, "", credit.ErrInvalidCursor
		}
		day = d
	}
	start, err := cursorKey(cur.Key, attrPK, attrSK)
	if err != nil {
		return nil, "", err
	}
	var out []credit.AuditEvent
	for !day.Before(from.UTC().Truncate(24 * time.Hour)) {
		values[":pk"] = avS(auditDayPK(day))
		items, lek, err := s.queryAudit(ctx, &dynamodb.QueryInput{
			KeyConditionExpression: aws.String("PK = :pk AND SK BETWEEN :lo AND :hi"),
			ExclusiveStartKey:      start,
		}, values, names, filterExpr, p.Limit-len(out))
		if err != nil {
			return nil, "", err
		}
		out = append(out, items...)
		if lek != nil {
			return out, encodeJSONCursor(auditCursor{Day: day.Format(time.DateOnly), Key: lek}), nil
		}
		start = nil
		day = day.Add(-24 * time.Hour)
		if len(out) == p.Limit {
			if day.Before(from.UTC().Truncate(24 * time.Hour)) {
				return out, "", nil
			}
			return out, encodeJSONCursor(auditCursor{Day: day.Format(time.DateOnly)}), nil
		}
	}
	return out, "", nil
}

func (s *Store) queryAudit(ctx context.Context, in *dynamodb.QueryInput, values map[string]types.AttributeValue, names map[string]string, filter string, limit int) ([]credit.AuditEvent, map[string]string, error) {
	in.TableName = aws.String(s.Table)
	in.ScanIndexForward = aws.Bool(false)
	in.Limit = aws.Int32(int32(limit))
	in.ExpressionAttributeValues = values
	if len(names) > 0 {
		in.ExpressionAttributeNames = names
	}
	if filter != "" {
		in.FilterExpression = aws.String(filter)
	}
	res, err := s.Client.Query(ctx, in)
	if err != nil {
		return nil, nil, queryError(err, "list audit")
	}
	var items []auditItem
	if err := attributevalue.UnmarshalListOfMaps(res.Items, &items); err != nil {
		return nil, nil, credit.Internal(err, "dynamo: decode audit")
	}
	out := make([]credit.AuditEvent, len(items))
	for i, it := range items {
		out[i] = credit.AuditEvent{
			ID: it.ID, At: parseTime(it.At), Actor: it.Actor.actor(), Action: it.Action, Target: it.Target,
			RequestID: it.RequestID, Outcome: credit.AuditOutcome{Status: it.Status, Code: it.Code},
		}
	}
	var lek map[string]string
	if len(res.LastEvaluatedKey) > 0 {
		lek = map[string]string{}
		for k, v := range res.LastEvaluatedKey {
			lek[k] = avString(v)
		}
	}
	return out, lek, nil
}

func avS(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

func joinAnd(parts []string) string {
	out := ""
	for i, p := range parts {
		if i > 0 {
			out += " AND "
		}
		out += p
	}
	return out
}
