package dynamo

// Negativations: items and access patterns.
//
//	item         PK                          SK                          indexes
//	record       NEGATIVATION#<id>           NEGATIVATION                GSI4 NEGSTATUS#<branch>#<status> / <createdAt>#<id> (keys and integrationId)
//	marker       PARTY#customer#<customer>   NEGATIVATION#<invoice>      GSI2 NEGATIVATIONS#<branch>           / <createdAt>#<id>
//	                                                                     GSI3 NEGRUN#<run>#<branch>            / <createdAt>#<id> (automatic only)
//	integration  INTEGRATION#<id>            INTEGRATION                 (liveNegativations counter)
//
// Access patterns, newest first, createdAt ranges on the sort key, every
// list over the caller's branches (merge.go):
//
//   - one record: GetItem on its key; by invoice: the marker, then the record;
//   - a customer's: the markers in the customer's partition (one per
//     invoice, a handful), then BatchGetItem of the records;
//   - by status, with or without the integration (the panel's tabs, pending
//     removals, the sync, the billing rule): GSI4 NEGSTATUS#<branch>#<status>,
//     the integration a FilterExpression on the projected integrationId,
//     then BatchGetItem of the records;
//   - a billing run's (runId): the markers on GSI3 NEGRUN#<run>#<branch>,
//     written with the marker by the run that created the record;
//   - otherwise (all, or by integration): the markers on GSI2
//     NEGATIVATIONS#<branch>, likewise filtered, then BatchGetItem. Markers
//     never change after creation, so this entry is written once.
//
// Write cost: the record is the only large item and has one small index
// entry (keys and integrationId, not the record), so an inclusion is one
// transaction (marker, record, counter) and one conditional PutItem of the
// outcome, whose index entry moves with the status. Lists pay for it with
// a BatchGetItem of the page.
//
// The marker is the one-negativation-per-invoice lock: a separate item under
// the customer (the invoice item is replaced whole by PutInvoice), created
// with attribute_not_exists in the same transaction as the record and the
// +1 on the integration's liveNegativations, whose condition
// attribute_exists keeps a record from being created for an integration
// being deleted. Every later write of the record is conditioned on its
// version and, when Negativation.Live changes, adjusts the counter in the
// same transaction, so the delete guard is exact; a write that leaves Live
// as it was is a plain conditional PutItem.

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
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
)

func negativationPK(id string) string { return "NEGATIVATION#" + id }
func negByStatusPK(branch string, st credit.NegativationStatus) string {
	return "NEGSTATUS#" + branch + "#" + string(st)
}
func negByBranchPK(branch string) string      { return "NEGATIVATIONS#" + branch }
func negByRunPK(run, branch string) string    { return "NEGRUN#" + run + "#" + branch }
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

// negativationAV is the record item with its one index entry, which
// follows the status.
func negativationAV(n credit.Negativation) (map[string]types.AttributeValue, error) {
	return marshal(toNegativationItem(n), map[string]string{
		attrPK: negativationPK(n.ID), attrSK: negativationSK,
		"GSI4PK": negByStatusPK(n.BranchID, n.Status), "GSI4SK": negSortKey(n),
	})
}

type negativationMarker struct {
	NegativationID string `dynamodbav:"negativationId"`
	IntegrationID  string `dynamodbav:"integrationId"`
	BranchID       string `dynamodbav:"branchId"`
	Origin         string `dynamodbav:"origin"`
	RunID          string `dynamodbav:"runId,omitempty"`
	CreatedAt      string `dynamodbav:"createdAt"`
}

// markerAV is the marker with its index entries: every marker in its
// branch's list, an automatic one also in its run's. Origin and run never
// change, so the marker is written once.
func markerAV(n credit.Negativation) (map[string]types.AttributeValue, error) {
	keys := map[string]string{
		attrPK: partyPK(credit.PartyCustomer, n.CustomerID), attrSK: negativationMarkerSK + n.InvoiceID,
		"GSI2PK": negByBranchPK(n.BranchID), "GSI2SK": negSortKey(n),
	}
	if n.RunID != "" {
		keys["GSI3PK"], keys["GSI3SK"] = negByRunPK(n.RunID, n.BranchID), negSortKey(n)
	}
	return marshal(negativationMarker{NegativationID: n.ID, IntegrationID: n.IntegrationID, BranchID: n.BranchID,
		Origin: string(n.Origin), RunID: n.RunID, CreatedAt: formatTime(n.CreatedAt)}, keys)
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
		next.ID, next.CustomerID, next.InvoiceID, next.IntegrationID, next.BranchID = cur.ID, cur.CustomerID, cur.InvoiceID, cur.IntegrationID, cur.BranchID
		next.CreatedAt, next.Version = cur.CreatedAt, cur.Version+1
		record, err := negativationAV(next)
		if err != nil {
			return credit.Negativation{}, err
		}
		put := &types.Put{
			TableName: aws.String(s.Table), Item: record,
			ConditionExpression:       aws.String("#version = :v"),
			ExpressionAttributeNames:  map[string]string{"#version": "version"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":v": &types.AttributeValueMemberN{Value: fmt.Sprint(cur.Version)}},
		}
		items := []types.TransactWriteItem{{Put: put}}
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
		if len(items) == 1 {
			// Live unchanged: one conditional write, half a transaction's
			// cost.
			_, err = s.Client.PutItem(ctx, &dynamodb.PutItemInput{
				TableName: put.TableName, Item: put.Item, ConditionExpression: put.ConditionExpression,
				ExpressionAttributeNames: put.ExpressionAttributeNames, ExpressionAttributeValues: put.ExpressionAttributeValues,
			})
		} else {
			err = s.transact(ctx, items)
		}
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

// negativationQuery plans the merged list a filter is served by (not the
// customer's, which reads the customer's markers).
func (s *Store) negativationQuery(ctx context.Context, f credit.NegativationFilter) (mergedQuery, bool, error) {
	branches, err := s.branchesOf(ctx, f.Branches)
	if err != nil {
		return mergedQuery{}, false, err
	}
	from, to := f.CreatedBounds()
	q := mergedQuery{
		fingerprint: fingerprint("neg", string(f.Status), f.IntegrationID, string(f.Origin), f.RunID,
			fmt.Sprint(from.UnixMilli(), to.UnixMilli()), scopeName(f.Branches)),
		names: map[string]string{}, values: map[string]types.AttributeValue{},
	}
	var parts []string
	viaMarkers := f.Status == ""
	for _, b := range branches {
		switch {
		case f.RunID != "":
			parts = append(parts, negByRunPK(f.RunID, b))
		case viaMarkers:
			parts = append(parts, negByBranchPK(b))
		default:
			parts = append(parts, negByStatusPK(b, f.Status))
		}
	}
	q.groups = [][]string{parts}
	switch {
	case f.RunID != "":
		q.index = "GSI3"
	case viaMarkers:
		q.index = "GSI2"
	default:
		q.index = "GSI4"
	}
	q.names["#pk"] = q.index + "PK"
	q.keyCond = "#pk = :pk"
	switch {
	case !from.IsZero() && !to.IsZero():
		// "<to>#id" sorts after "<to>": BETWEEN keeps the end exclusive.
		q.keyCond += " AND #sk BETWEEN :from AND :to"
	case !from.IsZero():
		q.keyCond += " AND #sk >= :from"
	case !to.IsZero():
		q.keyCond += " AND #sk < :to"
	}
	if !from.IsZero() {
		q.names["#sk"] = q.index + "SK"
		q.values[":from"] = &types.AttributeValueMemberS{Value: formatTime(from)}
	}
	if !to.IsZero() {
		q.names["#sk"] = q.index + "SK"
		q.values[":to"] = &types.AttributeValueMemberS{Value: formatTime(to)}
	}
	var filters []string
	if f.IntegrationID != "" {
		filters = append(filters, "integrationId = :integration")
		q.values[":integration"] = &types.AttributeValueMemberS{Value: f.IntegrationID}
	}
	if f.Origin != "" {
		filters = append(filters, "#origin = :origin")
		q.names["#origin"] = "origin"
		q.values[":origin"] = &types.AttributeValueMemberS{Value: string(f.Origin)}
	}
	q.filter = strings.Join(filters, " AND ")
	return q, viaMarkers, nil
}

func (s *Store) ListNegativations(ctx context.Context, f credit.NegativationFilter, p credit.Page) ([]credit.Negativation, string, error) {
	p = p.Normalized()
	if f.CustomerID != "" {
		return s.customerNegativations(ctx, f, p)
	}
	q, viaMarkers, err := s.negativationQuery(ctx, f)
	if err != nil {
		return nil, "", err
	}
	raw, next, err := s.mergedPage(ctx, q, p.Limit, p.Cursor)
	if err != nil {
		return nil, "", err
	}
	ids := make([]string, len(raw))
	for i, it := range raw {
		if viaMarkers {
			ids[i] = avString(it["negativationId"])
		} else {
			ids[i] = strings.TrimPrefix(avString(it[attrPK]), negativationPK(""))
		}
	}
	out, err := s.negativationsByID(ctx, ids)
	if err != nil {
		return nil, "", err
	}
	if f.Status != "" {
		// The status index lags the records: one that has just left the
		// status is not shown under it.
		out = inStatus(out, f.Status)
	}
	return out, next, nil
}

// customerNegativations lists a customer's records from its markers: a
// customer has one per invoice at most, so all are read, ordered and cut
// into the page; the cursor is the last record's sort key.
func (s *Store) customerNegativations(ctx context.Context, f credit.NegativationFilter, p credit.Page) ([]credit.Negativation, string, error) {
	pk := partyPK(credit.PartyCustomer, f.CustomerID)
	after := ""
	if p.Cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(p.Cursor)
		if err != nil || !strings.HasPrefix(string(b), "negcust|"+f.CustomerID+"|") {
			return nil, "", credit.ErrInvalidCursor
		}
		after = strings.TrimPrefix(string(b), "negcust|"+f.CustomerID+"|")
	}
	var ids []string
	var start map[string]types.AttributeValue
	for {
		res, err := s.Client.Query(ctx, &dynamodb.QueryInput{
			TableName: aws.String(s.Table), KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :prefix)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":pk": &types.AttributeValueMemberS{Value: pk}, ":prefix": &types.AttributeValueMemberS{Value: negativationMarkerSK},
			},
			ExclusiveStartKey: start,
		})
		if err != nil {
			return nil, "", credit.Internal(err, "dynamo: list customer negativations")
		}
		var markers []negativationMarker
		if err := attributevalue.UnmarshalListOfMaps(res.Items, &markers); err != nil {
			return nil, "", credit.Internal(err, "dynamo: decode negativation markers")
		}
		for _, m := range markers {
			if f.Branches.Allows(m.BranchID) && (f.IntegrationID == "" || m.IntegrationID == f.IntegrationID) {
				ids = append(ids, m.NegativationID)
			}
		}
		if len(res.LastEvaluatedKey) == 0 {
			break
		}
		start = res.LastEvaluatedKey
	}
	recs, err := s.negativationsByID(ctx, ids)
	if err != nil {
		return nil, "", err
	}
	var out []credit.Negativation
	for _, n := range recs {
		if f.Matches(n) && (after == "" || negSortKey(n) < after) {
			out = append(out, n)
		}
	}
	slices.SortFunc(out, func(a, b credit.Negativation) int { return strings.Compare(negSortKey(b), negSortKey(a)) })
	if len(out) <= p.Limit {
		return out, "", nil
	}
	out = out[:p.Limit]
	return out, base64.RawURLEncoding.EncodeToString([]byte("negcust|" + f.CustomerID + "|" + negSortKey(out[len(out)-1]))), nil
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

// inStatus keeps the records in one of statuses.
func inStatus(recs []credit.Negativation, statuses ...credit.NegativationStatus) []credit.Negativation {
	return slices.DeleteFunc(recs, func(n credit.Negativation) bool { return !slices.Contains(statuses, n.Status) })
}

// negativationsByID reads the records of ids, in that order, each once.
func (s *Store) negativationsByID(ctx context.Context, ids []string) ([]credit.Negativation, error) {
	keys := make([]map[string]types.AttributeValue, len(ids))
	for i, id := range ids {
		keys[i] = key(negativationPK(id), negativationSK)
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
	out := make([]credit.Negativation, 0, len(ids))
	for _, id := range ids {
		if n, ok := byID[id]; ok {
			out = append(out, n)
			delete(byID, id)
		}
	}
	return out, nil
}

// liveAtTheBureau are the statuses whose record the bureau holds.
var liveAtTheBureau = []credit.NegativationStatus{credit.NegativationPending, credit.NegativationActive, credit.NegativationRemoving}

func (s *Store) ListSettledNegativations(ctx context.Context, integrationID string, scope credit.Branches) ([]credit.SettledNegativation, error) {
	// An integration's live records are all in its branch: it cannot move
	// while it has any.
	if integrationID != "" {
		if i, err := s.GetIntegration(ctx, integrationID); err == nil {
			if !scope.Allows(i.BranchID) {
				return nil, nil
			}
			scope = credit.Branches{i.BranchID}
		} else if credit.ErrorKind(err) != credit.KindNotFound {
			return nil, err
		}
	}
	branches, err := s.branchesOf(ctx, scope)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, b := range branches {
		for _, st := range liveAtTheBureau {
			in := &dynamodb.QueryInput{
				TableName: aws.String(s.Table), IndexName: aws.String("GSI4"),
				KeyConditionExpression:    aws.String("GSI4PK = :pk"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: negByStatusPK(b, st)}},
			}
			if integrationID != "" {
				in.FilterExpression = aws.String("integrationId = :integration")
				in.ExpressionAttributeValues[":integration"] = &types.AttributeValueMemberS{Value: integrationID}
			}
			for {
				res, err := s.Client.Query(ctx, in)
				if err != nil {
					return nil, credit.Internal(err, "dynamo: list live negativations")
				}
				for _, it := range res.Items {
					ids = append(ids, strings.TrimPrefix(avString(it[attrPK]), negativationPK("")))
				}
				if len(res.LastEvaluatedKey) == 0 {
					break
				}
				in.ExclusiveStartKey = res.LastEvaluatedKey
			}
		}
	}
	recs, err := s.negativationsByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	// The index lags the records: a record just moved between two live
	// statuses may be listed under both, and one just removed under its
	// old status.
	recs = inStatus(recs, liveAtTheBureau...)
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
