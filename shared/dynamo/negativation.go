package dynamo

// Negativations: items and access patterns.
//
//	item         PK                          SK                          indexes
//	record       NEGATIVATION#<id>           NEGATIVATION                GSI1 NEGCUST#<customer>             / <createdAt>#<id>
//	                                                                     GSI2 NEGSTATUS#<status>             / <createdAt>#<id>
//	                                                                     GSI3 NEGINTSTATUS#<integration>#<status> / <createdAt>#<id>
//	marker       PARTY#customer#<customer>   NEGATIVATION#<invoice>      GSI1 NEGBYINT#<integration>         / <createdAt>#<id>
//	                                                                     GSI2 NEGATIVATIONS                  / <createdAt>#<id>
//	integration  INTEGRATION#<id>            INTEGRATION                 (liveNegativations counter)
//
// Access patterns, newest first, createdAt ranges on the sort key:
//
//   - one record: GetItem on its key; by invoice: the marker, then the record;
//   - a customer's (GET /parties/customers/{id}/negativations, and any list
//     filtered by customer): GSI1 NEGCUST#, the other filters applied to
//     that small partition;
//   - by status (the panel's tabs, pending removals): GSI2 NEGSTATUS#;
//   - by integration and status (the sync, the billing rule): GSI3;
//   - by integration, and all: the markers on GSI1 NEGBYINT# and GSI2
//     NEGATIVATIONS, then BatchGetItem of the records. Markers never change
//     after creation, so these entries are written once.
//
// The marker is the one-negativation-per-invoice lock: a separate item under
// the customer (the invoice item is replaced whole by PutInvoice), created
// with attribute_not_exists in the same transaction as the record and the
// +1 on the integration's liveNegativations, whose condition
// attribute_exists keeps a record from being created for an integration
// being deleted. Every later write of the record is conditioned on its
// version and adjusts the counter in the same transaction when
// Negativation.Live changes, so the delete guard is exact.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"creditanalysis/shared/credit"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

var _ credit.NegativationStore = (*Store)(nil)

const (
	negativationSK       = "NEGATIVATION"
	negativationMarkerSK = "NEGATIVATION#"
	allNegativationsKey  = "NEGATIVATIONS"
)

func negativationPK(id string) string                   { return "NEGATIVATION#" + id }
func negByCustomerPK(customerID string) string          { return "NEGCUST#" + customerID }
func negByStatusPK(st credit.NegativationStatus) string { return "NEGSTATUS#" + string(st) }
func negByIntegrationPK(integrationID string) string    { return "NEGBYINT#" + integrationID }
func negByIntegrationStatusPK(integrationID string, st credit.NegativationStatus) string {
	return "NEGINTSTATUS#" + integrationID + "#" + string(st)
}
func negSortKey(n credit.Negativation) string { return formatTime(n.CreatedAt) + "#" + n.ID }

type negativationEventItem struct {
	Status    string    `dynamodbav:"status"`
	At        string    `dynamodbav:"at"`
	By        actorItem `dynamodbav:"by"`
	RunID     string    `dynamodbav:"runId,omitempty"`
	Message   string    `dynamodbav:"message,omitempty"`
	ErrorCode string    `dynamodbav:"errorCode,omitempty"`
}

type negativationErrorItem struct {
	Code    string `dynamodbav:"code"`
	Message string `dynamodbav:"message"`
}

type negativationItem struct {
	ID                  string                  `dynamodbav:"id"`
	Status              string                  `dynamodbav:"status"`
	CustomerID          string                  `dynamodbav:"customerId"`
	InvoiceID           string                  `dynamodbav:"invoiceId"`
	IntegrationID       string                  `dynamodbav:"integrationId"`
	BranchID            string                  `dynamodbav:"branchId"`
	Document            string                  `dynamodbav:"document"`
	DebtorName          string                  `dynamodbav:"debtorName"`
	AmountCents         int64                   `dynamodbav:"amountCents"`
	DueDate             string                  `dynamodbav:"dueDate"`
	ContractNumber      string                  `dynamodbav:"contractNumber,omitempty"`
	DocumentNumber      string                  `dynamodbav:"documentNumber,omitempty"`
	RestrictionCode     string                  `dynamodbav:"restrictionCode"`
	RemovalCode         string                  `dynamodbav:"removalCode,omitempty"`
	Origin              string                  `dynamodbav:"origin"`
	RequestedBy         actorItem               `dynamodbav:"requestedBy"`
	RunID               string                  `dynamodbav:"runId,omitempty"`
	Protocol            string                  `dynamodbav:"protocol,omitempty"`
	BureauMessage       string                  `dynamodbav:"bureauMessage,omitempty"`
	OutcomeUnknown      bool                    `dynamodbav:"outcomeUnknown"`
	Attempts            int                     `dynamodbav:"attempts"`
	CreatedAt           string                  `dynamodbav:"createdAt"`
	UpdatedAt           string                  `dynamodbav:"updatedAt"`
	RemovedAt           string                  `dynamodbav:"removedAt,omitempty"`
	RemovedBy           *actorItem              `dynamodbav:"removedBy,omitempty"`
	History             []negativationEventItem `dynamodbav:"history"`
	LastError           *negativationErrorItem  `dynamodbav:"lastError,omitempty"`
	StatusBeforeRemoval string                  `dynamodbav:"statusBeforeRemoval,omitempty"`
	Version             int64                   `dynamodbav:"version"`
}

func optionalTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return formatTime(t)
}

func parseOptionalTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	return parseTime(s)
}

func toNegativationItem(n credit.Negativation) negativationItem {
	it := negativationItem{
		ID: n.ID, Status: string(n.Status), CustomerID: n.CustomerID, InvoiceID: n.InvoiceID,
		IntegrationID: n.IntegrationID, BranchID: n.BranchID, Document: n.Document.Number(), DebtorName: n.DebtorName,
		AmountCents: int64(n.AmountCents), DueDate: dateString(n.DueDate), ContractNumber: n.ContractNumber,
		DocumentNumber: n.DocumentNumber, RestrictionCode: n.RestrictionCode, RemovalCode: n.RemovalCode,
		Origin: string(n.Origin), RequestedBy: toActorItem(n.RequestedBy), RunID: n.RunID, Protocol: n.Protocol,
		BureauMessage: n.BureauMessage, OutcomeUnknown: n.OutcomeUnknown, Attempts: n.Attempts,
		CreatedAt: formatTime(n.CreatedAt), UpdatedAt: formatTime(n.UpdatedAt), RemovedAt: optionalTime(n.RemovedAt),
		History: make([]negativationEventItem, len(n.History)), StatusBeforeRemoval: string(n.StatusBeforeRemoval),
		Version: n.Version,
	}
	if n.RemovedBy.Subject != "" || n.RemovedBy.Name != "" {
		by := toActorItem(n.RemovedBy)
		it.RemovedBy = &by
	}
	for i, e := range n.History {
		it.History[i] = negativationEventItem{Status: string(e.Status), At: formatTime(e.At), By: toActorItem(e.By),
			RunID: e.RunID, Message: e.Message, ErrorCode: e.ErrorCode}
	}
	if n.LastError != nil {
		it.LastError = &negativationErrorItem{Code: n.LastError.Code, Message: n.LastError.Message}
	}
	return it
}

func (it negativationItem) negativation() credit.Negativation {
	doc, _ := credit.ParseDocument(it.Document)
	n := credit.Negativation{
		ID: it.ID, Status: credit.NegativationStatus(it.Status), CustomerID: it.CustomerID, InvoiceID: it.InvoiceID,
		IntegrationID: it.IntegrationID, BranchID: it.BranchID, Document: doc, DebtorName: it.DebtorName,
		AmountCents: credit.Cents(it.AmountCents), DueDate: parseDate(it.DueDate), ContractNumber: it.ContractNumber,
		DocumentNumber: it.DocumentNumber, RestrictionCode: it.RestrictionCode, RemovalCode: it.RemovalCode,
		Origin: credit.Origin(it.Origin), RequestedBy: it.RequestedBy.actor(), RunID: it.RunID, Protocol: it.Protocol,
		BureauMessage: it.BureauMessage, OutcomeUnknown: it.OutcomeUnknown, Attempts: it.Attempts,
		CreatedAt: parseTime(it.CreatedAt), UpdatedAt: parseTime(it.UpdatedAt), RemovedAt: parseOptionalTime(it.RemovedAt),
		StatusBeforeRemoval: credit.NegativationStatus(it.StatusBeforeRemoval), Version: it.Version,
	}
	if it.RemovedBy != nil {
		n.RemovedBy = it.RemovedBy.actor()
	}
	if len(it.History) > 0 {
		n.History = make([]credit.NegativationEvent, len(it.History))
		for i, e := range it.History {
			n.History[i] = credit.NegativationEvent{Status: credit.NegativationStatus(e.Status), At: parseTime(e.At), By: e.By.actor(),
				RunID: e.RunID, Message: e.Message, ErrorCode: e.ErrorCode}
		}
	}
	if it.LastError != nil {
		n.LastError = &credit.NegativationError{Code: it.LastError.Code, Message: it.LastError.Message}
	}
	return n
}

// negativationAV is the record item with its three index entries, which
// follow the status.
func negativationAV(n credit.Negativation) (map[string]types.AttributeValue, error) {
	sk := negSortKey(n)
	return marshal(toNegativationItem(n), map[string]string{
		attrPK: negativationPK(n.ID), attrSK: negativationSK,
		"GSI1PK": negByCustomerPK(n.CustomerID), "GSI1SK": sk,
		"GSI2PK": negByStatusPK(n.Status), "GSI2SK": sk,
		"GSI3PK": negByIntegrationStatusPK(n.IntegrationID, n.Status), "GSI3SK": sk,
	})
}

type negativationMarker struct {
	NegativationID string `dynamodbav:"negativationId"`
	IntegrationID  string `dynamodbav:"integrationId"`
	CreatedAt      string `dynamodbav:"createdAt"`
}

func markerAV(n credit.Negativation) (map[string]types.AttributeValue, error) {
	sk := negSortKey(n)
	return marshal(negativationMarker{NegativationID: n.ID, IntegrationID: n.IntegrationID, CreatedAt: formatTime(n.CreatedAt)}, map[string]string{
		attrPK: partyPK(credit.PartyCustomer, n.CustomerID), attrSK: negativationMarkerSK + n.InvoiceID,
		"GSI1PK": negByIntegrationPK(n.IntegrationID), "GSI1SK": sk,
		"GSI2PK": allNegativationsKey, "GSI2SK": sk,
	})
}

// liveCounter adds delta to the integration's live count, on the condition
// that the integration exists (an Update would otherwise create the item).
func (s *Store) liveCounter(integrationID string, delta int) types.TransactWriteItem {
	return types.TransactWriteItem{Update: &types.Update{
		TableName: aws.String(s.Table), Key: key(integrationPK(integrationID), integrationSK),
		UpdateExpression:          aws.String("ADD #live :d"),
		ConditionExpression:       aws.String("attribute_exists(PK)"),
		ExpressionAttributeNames:  map[string]string{"#live": attrLiveNegativations},
		ExpressionAttributeValues: map[string]types.AttributeValue{":d": &types.AttributeValueMemberN{Value: fmt.Sprint(delta)}},
	}}
}

func (s *Store) CreateNegativation(ctx context.Context, n credit.Negativation) error {
	record, err := negativationAV(n)
	if err != nil {
		return err
	}
	marker, err := markerAV(n)
	if err != nil {
		return err
	}
	items := []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String(s.Table), Item: marker, ConditionExpression: aws.String("attribute_not_exists(PK)")}},
		{Put: &types.Put{TableName: aws.String(s.Table), Item: record, ConditionExpression: aws.String("attribute_not_exists(PK)")}},
	}
	if n.Live() {
		items = append(items, s.liveCounter(n.IntegrationID, 1))
	}
	err = s.transact(ctx, items)
	if err == nil {
		return nil
	}
	if !isConditionFailed(err) {
		return credit.Internal(err, "dynamo: create negativation")
	}
	codes := cancellationCodes(err)
	switch {
	case len(codes) > 0 && codes[0] == "ConditionalCheckFailed":
		existing, gerr := s.GetNegativationByInvoice(ctx, n.CustomerID, n.InvoiceID)
		if gerr != nil {
			return credit.NewError(credit.KindConflict, credit.CodeAlreadyNegativated, "A fatura já possui negativação.").WithCause(gerr)
		}
		return credit.ErrAlreadyNegativated(existing)
	case len(codes) > 2 && codes[2] == "ConditionalCheckFailed":
		return credit.NotFound("Integração")
	default:
		return credit.Internal(err, "dynamo: negativation id %s already exists", n.ID)
	}
}

func (s *Store) GetNegativation(ctx context.Context, id string) (credit.Negativation, error) {
	var it negativationItem
	found, err := s.getItem(ctx, negativationPK(id), negativationSK, &it)
	if err != nil {
		return credit.Negativation{}, err
	}
	if !found {
		return credit.Negativation{}, credit.NotFound("Negativação")
	}
	return it.negativation(), nil
}

func (s *Store) GetNegativationByInvoice(ctx context.Context, customerID, invoiceID string) (credit.Negativation, error) {
	var m negativationMarker
	found, err := s.getItem(ctx, partyPK(credit.PartyCustomer, customerID), negativationMarkerSK+invoiceID, &m)
	if err != nil {
		return credit.Negativation{}, err
	}
	if !found {
		return credit.Negativation{}, credit.NotFound("Negativação")
	}
	return s.GetNegativation(ctx, m.NegativationID)
}

// UpdateNegativation writes fn's result with a condition on the version it
// read, and the live-count change in the same transaction.
func (s *Store) UpdateNegativation(ctx context.Context, id string, fn func(*credit.Negativation) error) (credit.Negativation, error) {
	integrationGone := false
	for attempt := 0; attempt < 5; attempt++ {
		cur, err := s.GetNegativation(ctx, id)
		if err != nil {
			return credit.Negativation{}, err
		}
		next := cur
		next.History = append([]credit.NegativationEvent(nil), cur.History...)
		if cur.LastError != nil {
			e := *cur.LastError
			next.LastError = &e
		}
		if err := fn(&next); errors.Is(err, credit.ErrNoChange) {
			return cur, nil
		} else if err != nil {
			return credit.Negativation{}, err
		}
		next.ID, next.CustomerID, next.InvoiceID, next.IntegrationID = cur.ID, cur.CustomerID, cur.InvoiceID, cur.IntegrationID
		next.CreatedAt, next.Version = cur.CreatedAt, cur.Version+1
		record, err := negativationAV(next)
		if err != nil {
			return credit.Negativation{}, err
		}
		items := []types.TransactWriteItem{{Put: &types.Put{
			TableName: aws.String(s.Table), Item: record,
			ConditionExpression:       aws.String("#version = :v"),
			ExpressionAttributeNames:  map[string]string{"#version": "version"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":v": &types.AttributeValueMemberN{Value: fmt.Sprint(cur.Version)}},
		}}}
		delta := 0
		switch {
		case !cur.Live() && next.Live():
			delta = 1
		case cur.Live() && !next.Live():
			delta = -1
		}
		if delta != 0 && !(delta < 0 && integrationGone) {
			items = append(items, s.liveCounter(cur.IntegrationID, delta))
		}
		err = s.transact(ctx, items)
		if err == nil {
			return next, nil
		}
		if !isConditionFailed(err) {
			return credit.Negativation{}, credit.Internal(err, "dynamo: update negativation")
		}
		if codes := cancellationCodes(err); len(codes) > 1 && codes[1] == "ConditionalCheckFailed" {
			if delta > 0 {
				return credit.Negativation{}, credit.NotFound("Integração")
			}
			// No integration to count against (cannot happen while the count
			// guards it, but a record must never be stuck for it).
			integrationGone = true
		}
		// Otherwise the record changed under us: read it again, apply fn again.
	}
	return credit.Negativation{}, credit.ErrNegativationConcurrentUpdate
}

// negativationQuery is the index query a filter is served by.
type negativationQuery struct {
	index, pkAttr, skAttr, pk string
	// viaMarkers: the index holds markers; the records are read after.
	viaMarkers bool
	// filter is applied by DynamoDB after the key condition.
	filter string
	values map[string]types.AttributeValue
}

func planNegativationQuery(f credit.NegativationFilter) negativationQuery {
	q := negativationQuery{values: map[string]types.AttributeValue{}}
	switch {
	case f.CustomerID != "":
		q.index, q.pk = "GSI1", negByCustomerPK(f.CustomerID)
		var conds []string
		if f.Status != "" {
			conds = append(conds, "#status = :status")
			q.values[":status"] = &types.AttributeValueMemberS{Value: string(f.Status)}
		}
		if f.IntegrationID != "" {
			conds = append(conds, "integrationId = :integration")
			q.values[":integration"] = &types.AttributeValueMemberS{Value: f.IntegrationID}
		}
		for i, c := range conds {
			if i > 0 {
				q.filter += " AND "
			}
			q.filter += c
		}
	case f.Status != "" && f.IntegrationID != "":
		q.index, q.pk = "GSI3", negByIntegrationStatusPK(f.IntegrationID, f.Status)
	case f.Status != "":
		q.index, q.pk = "GSI2", negByStatusPK(f.Status)
	case f.IntegrationID != "":
		q.index, q.pk, q.viaMarkers = "GSI1", negByIntegrationPK(f.IntegrationID), true
	default:
		q.index, q.pk, q.viaMarkers = "GSI2", allNegativationsKey, true
	}
	q.pkAttr, q.skAttr = q.index+"PK", q.index+"SK"
	return q
}

func (s *Store) ListNegativations(ctx context.Context, f credit.NegativationFilter, p credit.Page) ([]credit.Negativation, string, error) {
	p = p.Normalized()
	q := planNegativationQuery(f)
	start, err := decodeCursor(p.Cursor, attrPK, attrSK, q.pkAttr, q.skAttr)
	if err != nil {
		return nil, "", err
	}
	cond := "#pk = :pk"
	names := map[string]string{"#pk": q.pkAttr}
	values := map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: q.pk}}
	for k, v := range q.values {
		values[k] = v
	}
	from, to := f.CreatedBounds()
	switch {
	case !from.IsZero() && !to.IsZero():
		// "<to>#id" sorts after "<to>": BETWEEN keeps the end exclusive.
		cond += " AND #sk BETWEEN :from AND :to"
	case !from.IsZero():
		cond += " AND #sk >= :from"
	case !to.IsZero():
		cond += " AND #sk < :to"
	}
	if !from.IsZero() {
		names["#sk"] = q.skAttr
		values[":from"] = &types.AttributeValueMemberS{Value: formatTime(from)}
	}
	if !to.IsZero() {
		names["#sk"] = q.skAttr
		values[":to"] = &types.AttributeValueMemberS{Value: formatTime(to)}
	}
	in := &dynamodb.QueryInput{
		TableName: aws.String(s.Table), IndexName: aws.String(q.index),
		KeyConditionExpression: aws.String(cond), ExpressionAttributeNames: names, ExpressionAttributeValues: values,
		ScanIndexForward: aws.Bool(false), ExclusiveStartKey: start,
	}
	if q.filter != "" {
		in.FilterExpression = aws.String(q.filter)
	}
	if f.CustomerID != "" && f.Status != "" {
		names["#status"] = "status"
	}
	// A filtered query may match fewer than it reads: keep reading pages,
	// never more than the remaining room, until the page is full.
	var raw []map[string]types.AttributeValue
	var next map[string]types.AttributeValue
	for {
		in.Limit = aws.Int32(int32(p.Limit - len(raw)))
		res, err := s.Client.Query(ctx, in)
		if err != nil && start == nil {
			return nil, "", credit.Internal(err, "dynamo: list negativations")
		} else if err != nil {
			return nil, "", queryError(err, "list negativations")
		}
		raw = append(raw, res.Items...)
		next = res.LastEvaluatedKey
		if len(next) == 0 || len(raw) >= p.Limit {
			break
		}
		in.ExclusiveStartKey = next
	}
	var out []credit.Negativation
	if q.viaMarkers {
		out, err = s.negativationsOfMarkers(ctx, raw)
	} else {
		out, err = decodeNegativations(raw)
	}
	if err != nil {
		return nil, "", err
	}
	return out, encodeCursor(next), nil
}

func decodeNegativations(raw []map[string]types.AttributeValue) ([]credit.Negativation, error) {
	var items []negativationItem
	if err := attributevalue.UnmarshalListOfMaps(raw, &items); err != nil {
		return nil, credit.Internal(err, "dynamo: decode negativations")
	}
	out := make([]credit.Negativation, len(items))
	for i, it := range items {
		out[i] = it.negativation()
	}
	return out, nil
}

// negativationsOfMarkers reads the records the markers point to, in the
// markers' order.
func (s *Store) negativationsOfMarkers(ctx context.Context, raw []map[string]types.AttributeValue) ([]credit.Negativation, error) {
	var markers []negativationMarker
	if err := attributevalue.UnmarshalListOfMaps(raw, &markers); err != nil {
		return nil, credit.Internal(err, "dynamo: decode negativation markers")
	}
	keys := make([]map[string]types.AttributeValue, len(markers))
	for i, m := range markers {
		keys[i] = key(negativationPK(m.NegativationID), negativationSK)
	}
	got, err := s.batchGet(ctx, keys)
	if err != nil {
		return nil, err
	}
	recs, err := decodeNegativations(got)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]credit.Negativation, len(recs))
	for _, n := range recs {
		byID[n.ID] = n
	}
	out := make([]credit.Negativation, 0, len(markers))
	for _, m := range markers {
		if n, ok := byID[m.NegativationID]; ok {
			out = append(out, n)
		}
	}
	return out, nil
}

// batchGet reads items by key, 100 per call, consistently, retrying what
// DynamoDB leaves unprocessed. The answer is in no particular order.
func (s *Store) batchGet(ctx context.Context, keys []map[string]types.AttributeValue) ([]map[string]types.AttributeValue, error) {
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

// liveAtTheBureau are the statuses whose record the bureau holds.
var liveAtTheBureau = []credit.NegativationStatus{credit.NegativationPending, credit.NegativationActive, credit.NegativationRemoving}

func (s *Store) ListSettledNegativations(ctx context.Context, integrationID string) ([]credit.SettledNegativation, error) {
	var recs []credit.Negativation
	for _, st := range liveAtTheBureau {
		index, pk := "GSI2", negByStatusPK(st)
		if integrationID != "" {
			index, pk = "GSI3", negByIntegrationStatusPK(integrationID, st)
		}
		in := &dynamodb.QueryInput{
			TableName: aws.String(s.Table), IndexName: aws.String(index),
			KeyConditionExpression:    aws.String("#pk = :pk"),
			ExpressionAttributeNames:  map[string]string{"#pk": index + "PK"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: pk}},
		}
		for {
			res, err := s.Client.Query(ctx, in)
			if err != nil {
				return nil, credit.Internal(err, "dynamo: list live negativations")
			}
			page, err := decodeNegativations(res.Items)
			if err != nil {
				return nil, err
			}
			recs = append(recs, page...)
			if len(res.LastEvaluatedKey) == 0 {
				break
			}
			in.ExclusiveStartKey = res.LastEvaluatedKey
		}
	}
	keys := make([]map[string]types.AttributeValue, len(recs))
	for i, n := range recs {
		keys[i] = key(partyPK(credit.PartyCustomer, n.CustomerID), invoicePrefix+n.InvoiceID)
	}
	raw, err := s.batchGet(ctx, keys)
	if err != nil {
		return nil, err
	}
	var invs []invoiceItem
	if err := attributevalue.UnmarshalListOfMaps(raw, &invs); err != nil {
		return nil, credit.Internal(err, "dynamo: decode invoices")
	}
	byKey := make(map[string]credit.Invoice, len(invs))
	for _, it := range invs {
		byKey[it.CustomerID+"#"+it.ID] = it.invoice()
	}
	var out []credit.SettledNegativation
	for _, n := range recs {
		inv, ok := byKey[n.CustomerID+"#"+n.InvoiceID]
		if ok && inv.Status != credit.InvoiceOpen {
			out = append(out, credit.SettledNegativation{Negativation: n, Invoice: inv})
		}
	}
	return out, nil
}
