package dynamo

// Billing rule: items and access patterns.
//
//	item         PK                      SK            indexes
//	run          BILLINGRUN#<id>         BILLINGRUN    GSI1 BILLINGRUNS / <startedAt>#<id>
//
// What the rule reads of other items:
//
//	open invoice PARTY#customer#<cust>   INVOICE#<id>  GSI1 OPENINV#<branch> / <dueDate>#<cust>#<id>
//	customer     PARTY#customer#<cust>   PARTY
//
// Access patterns:
//
//   - one run: GetItem; every write of it is conditioned on the version it
//     read, so that the checkpoints of a run and the take-over by another
//     invocation never overwrite each other;
//   - runs, newest first: GSI1 BILLINGRUNS, backwards;
//   - a branch's open invoices due in a window, in (due date, customer,
//     invoice) order, from a position: GSI1 OPENINV# between the window's
//     dates, ExclusiveStartKey built from the position (the index is
//     sparse: an invoice leaves it when paid or cancelled);
//   - the customers of a page of invoices: BatchGetItem.

import (
	"context"
	"errors"
	"fmt"

	"creditanalysis/shared/credit"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

var _ credit.BillingStore = (*Store)(nil)

const (
	billingRunSK       = "BILLINGRUN"
	billingRunsListKey = "BILLINGRUNS"
)

func billingRunPK(id string) string { return "BILLINGRUN#" + id }

type billingRunErrorItem struct {
	At             string `dynamodbav:"at"`
	IntegrationID  string `dynamodbav:"integrationId,omitempty"`
	CustomerID     string `dynamodbav:"customerId,omitempty"`
	InvoiceID      string `dynamodbav:"invoiceId,omitempty"`
	NegativationID string `dynamodbav:"negativationId,omitempty"`
	Code           string `dynamodbav:"code"`
	Message        string `dynamodbav:"message"`
}

type invoiceKeyItem struct {
	DueDate    string `dynamodbav:"dueDate"`
	CustomerID string `dynamodbav:"customerId"`
	InvoiceID  string `dynamodbav:"invoiceId"`
}

type integrationPositionItem struct {
	IntegrationID string          `dynamodbav:"integrationId"`
	After         *invoiceKeyItem `dynamodbav:"after,omitempty"`
}

type billingRunItem struct {
	ID          string                    `dynamodbav:"id"`
	Trigger     string                    `dynamodbav:"trigger"`
	RequestedBy actorItem                 `dynamodbav:"requestedBy"`
	Status      string                    `dynamodbav:"status"`
	Day         string                    `dynamodbav:"day"`
	StartedAt   string                    `dynamodbav:"startedAt"`
	FinishedAt  string                    `dynamodbav:"finishedAt,omitempty"`
	Examined    int                       `dynamodbav:"examined"`
	Included    int                       `dynamodbav:"included"`
	Removed     int                       `dynamodbav:"removed"`
	Synced      int                       `dynamodbav:"synced"`
	Skipped     map[string]int            `dynamodbav:"skipped"`
	Failed      int                       `dynamodbav:"failed"`
	Errors      []billingRunErrorItem     `dynamodbav:"errors"`
	Done        []string                  `dynamodbav:"done"`
	Partial     []integrationPositionItem `dynamodbav:"partial,omitempty"`
	ResumedFrom string                    `dynamodbav:"resumedFrom,omitempty"`
	LeaseUntil  string                    `dynamodbav:"leaseUntil,omitempty"`
	DryRun      bool                      `dynamodbav:"dryRun,omitempty"`
	Preview     *billingPreviewItem       `dynamodbav:"preview,omitempty"`
	Version     int64                     `dynamodbav:"version"`
}

// billingPreviewItem is a dry run's preview; documents are kept masked.
type billingPreviewItem struct {
	Include []previewEntryItem `dynamodbav:"include"`
	Remove  []previewEntryItem `dynamodbav:"remove"`
	Skip    []previewEntryItem `dynamodbav:"skip"`
}

type previewEntryItem struct {
	IntegrationID  string `dynamodbav:"integrationId"`
	CustomerID     string `dynamodbav:"customerId"`
	InvoiceID      string `dynamodbav:"invoiceId"`
	NegativationID string `dynamodbav:"negativationId,omitempty"`
	MaskedDocument string `dynamodbav:"maskedDocument,omitempty"`
	AmountCents    int64  `dynamodbav:"amountCents"`
	DueDate        string `dynamodbav:"dueDate"`
	Reason         string `dynamodbav:"reason,omitempty"`
}

func toPreviewEntries(items []credit.BillingPreviewItem) []previewEntryItem {
	out := make([]previewEntryItem, len(items))
	for k, it := range items {
		out[k] = previewEntryItem{IntegrationID: it.IntegrationID, CustomerID: it.CustomerID, InvoiceID: it.InvoiceID,
			NegativationID: it.NegativationID, MaskedDocument: it.MaskedDocument, AmountCents: int64(it.AmountCents),
			DueDate: dateString(it.DueDate), Reason: it.Reason}
	}
	return out
}

func (p *billingPreviewItem) preview() credit.BillingPreview {
	if p == nil {
		return credit.BillingPreview{}
	}
	entries := func(items []previewEntryItem) []credit.BillingPreviewItem {
		var out []credit.BillingPreviewItem
		for _, it := range items {
			out = append(out, credit.BillingPreviewItem{IntegrationID: it.IntegrationID, CustomerID: it.CustomerID, InvoiceID: it.InvoiceID,
				NegativationID: it.NegativationID, MaskedDocument: it.MaskedDocument, AmountCents: credit.Cents(it.AmountCents),
				DueDate: parseDate(it.DueDate), Reason: it.Reason})
		}
		return out
	}
	return credit.BillingPreview{Include: entries(p.Include), Remove: entries(p.Remove), Skip: entries(p.Skip)}
}

func toBillingRunItem(r credit.BillingRun) billingRunItem {
	it := billingRunItem{
		ID: r.ID, Trigger: string(r.Trigger), RequestedBy: toActorItem(r.RequestedBy), Status: string(r.Status),
		Day: dateString(r.Day), StartedAt: formatTime(r.StartedAt), FinishedAt: optionalTime(r.FinishedAt),
		Examined: r.Counts.Examined, Included: r.Counts.Included, Removed: r.Counts.Removed, Synced: r.Counts.Synced,
		Skipped: r.Counts.Skipped, Failed: r.Counts.Failed,
		Done:        r.Position.Done,
		ResumedFrom: r.ResumedFrom, LeaseUntil: optionalTime(r.LeaseUntil), Version: r.Version,
	}
	if it.Done == nil {
		it.Done = []string{}
	}
	if r.DryRun {
		it.DryRun = true
		it.Preview = &billingPreviewItem{Include: toPreviewEntries(r.Preview.Include), Remove: toPreviewEntries(r.Preview.Remove),
			Skip: toPreviewEntries(r.Preview.Skip)}
	}
	it.Errors = make([]billingRunErrorItem, len(r.Errors))
	for k, e := range r.Errors {
		it.Errors[k] = billingRunErrorItem{At: formatTime(e.At), IntegrationID: e.IntegrationID, CustomerID: e.CustomerID,
			InvoiceID: e.InvoiceID, NegativationID: e.NegativationID, Code: e.Code, Message: e.Message}
	}
	for _, ip := range r.Position.Partial {
		pi := integrationPositionItem{IntegrationID: ip.IntegrationID}
		if a := ip.After; a != nil {
			pi.After = &invoiceKeyItem{DueDate: dateString(a.DueDate), CustomerID: a.CustomerID, InvoiceID: a.InvoiceID}
		}
		it.Partial = append(it.Partial, pi)
	}
	return it
}

func (it billingRunItem) run() credit.BillingRun {
	r := credit.BillingRun{
		ID: it.ID, Trigger: credit.BillingTrigger(it.Trigger), RequestedBy: it.RequestedBy.actor(), Status: credit.BillingRunStatus(it.Status),
		Day: parseDate(it.Day), StartedAt: parseTime(it.StartedAt), FinishedAt: parseOptionalTime(it.FinishedAt),
		Counts: credit.BillingCounts{Examined: it.Examined, Included: it.Included, Removed: it.Removed, Synced: it.Synced,
			Skipped: it.Skipped, Failed: it.Failed},
		Position:    credit.BillingPosition{Done: it.Done},
		ResumedFrom: it.ResumedFrom, LeaseUntil: parseOptionalTime(it.LeaseUntil), Version: it.Version,
		DryRun: it.DryRun, Preview: it.Preview.preview(),
	}
	// Empty collections read back as nil, as they were before the write.
	if len(it.Skipped) == 0 {
		r.Counts.Skipped = nil
	}
	if len(it.Done) == 0 {
		r.Position.Done = nil
	}
	for _, e := range it.Errors {
		r.Errors = append(r.Errors, credit.BillingRunError{At: parseTime(e.At), IntegrationID: e.IntegrationID, CustomerID: e.CustomerID,
			InvoiceID: e.InvoiceID, NegativationID: e.NegativationID, Code: e.Code, Message: e.Message})
	}
	for _, pi := range it.Partial {
		ip := credit.IntegrationPosition{IntegrationID: pi.IntegrationID}
		if a := pi.After; a != nil {
			ip.After = &credit.InvoiceKey{DueDate: parseDate(a.DueDate), CustomerID: a.CustomerID, InvoiceID: a.InvoiceID}
		}
		r.Position.Partial = append(r.Position.Partial, ip)
	}
	return r
}

func billingRunAV(r credit.BillingRun) (map[string]types.AttributeValue, error) {
	return marshal(toBillingRunItem(r), map[string]string{
		attrPK: billingRunPK(r.ID), attrSK: billingRunSK,
		"GSI1PK": billingRunsListKey, "GSI1SK": formatTime(r.StartedAt) + "#" + r.ID,
	})
}

func (s *Store) CreateBillingRun(ctx context.Context, r credit.BillingRun) error {
	item, err := billingRunAV(r)
	if err != nil {
		return err
	}
	_, err = s.Client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.Table), Item: item,
		ConditionExpression: aws.String("attribute_not_exists(PK)"),
	})
	if err != nil {
		return credit.Internal(err, "dynamo: create billing run %s", r.ID)
	}
	return nil
}

func (s *Store) GetBillingRun(ctx context.Context, id string) (credit.BillingRun, error) {
	var it billingRunItem
	found, err := s.getItem(ctx, billingRunPK(id), billingRunSK, &it)
	if err != nil {
		return credit.BillingRun{}, err
	}
	if !found {
		return credit.BillingRun{}, credit.NotFound("Execução da régua")
	}
	return it.run(), nil
}

// UpdateBillingRun writes fn's result with a condition on the version it
// read, reading again and reapplying fn when somebody wrote meanwhile.
func (s *Store) UpdateBillingRun(ctx context.Context, id string, fn func(*credit.BillingRun) error) (credit.BillingRun, error) {
	for attempt := 0; attempt < 8; attempt++ {
		cur, err := s.GetBillingRun(ctx, id)
		if err != nil {
			return credit.BillingRun{}, err
		}
		next := cur
		if cur.Counts.Skipped != nil {
			next.Counts.Skipped = make(map[string]int, len(cur.Counts.Skipped))
			for k, v := range cur.Counts.Skipped {
				next.Counts.Skipped[k] = v
			}
		}
		next.Errors = append([]credit.BillingRunError(nil), cur.Errors...)
		next.Position.Done = append([]string(nil), cur.Position.Done...)
		next.Position.Partial = append([]credit.IntegrationPosition(nil), cur.Position.Partial...)
		if err := fn(&next); errors.Is(err, credit.ErrNoChange) {
			return cur, nil
		} else if err != nil {
			return credit.BillingRun{}, err
		}
		next.ID, next.StartedAt, next.Version = cur.ID, cur.StartedAt, cur.Version+1
		item, err := billingRunAV(next)
		if err != nil {
			return credit.BillingRun{}, err
		}
		_, err = s.Client.PutItem(ctx, &dynamodb.PutItemInput{
			TableName: aws.String(s.Table), Item: item,
			ConditionExpression:       aws.String("#version = :v"),
			ExpressionAttributeNames:  map[string]string{"#version": "version"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":v": &types.AttributeValueMemberN{Value: fmt.Sprint(cur.Version)}},
		})
		if err == nil {
			return next, nil
		}
		if !isConditionFailed(err) {
			return credit.BillingRun{}, credit.Internal(err, "dynamo: update billing run %s", id)
		}
	}
	return credit.BillingRun{}, credit.ErrBillingRunConcurrentUpdate
}

func (s *Store) ListBillingRuns(ctx context.Context, p credit.Page) ([]credit.BillingRun, string, error) {
	start, err := decodeCursor(p.Cursor, attrPK, attrSK, "GSI1PK", "GSI1SK")
	if err != nil {
		return nil, "", err
	}
	if start != nil && avString(start["GSI1PK"]) != billingRunsListKey {
		return nil, "", credit.ErrInvalidCursor
	}
	return queryPage(ctx, s, &dynamodb.QueryInput{
		IndexName:                 aws.String("GSI1"),
		KeyConditionExpression:    aws.String("GSI1PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: billingRunsListKey}},
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(int32(p.Normalized().Limit)),
		ExclusiveStartKey:         start,
	}, "billing runs", billingRunItem.run)
}

// openInvoiceSK is an open invoice's sort key in the branch's index.
func openInvoiceSK(k credit.InvoiceKey) string {
	return k.DueDate.String() + "#" + k.CustomerID + "#" + k.InvoiceID
}

func (s *Store) OpenInvoicesDue(ctx context.Context, q credit.OpenInvoiceQuery) ([]credit.Invoice, bool, error) {
	pk := openInvoicesPK(q.BranchID)
	in := &dynamodb.QueryInput{
		TableName: aws.String(s.Table), IndexName: aws.String("GSI1"),
		// The upper bound is the day after To: every key of To's day
		// ("<To>#...") sorts below it, and none of the next day's.
		KeyConditionExpression: aws.String("GSI1PK = :pk AND GSI1SK BETWEEN :from AND :to"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":   &types.AttributeValueMemberS{Value: pk},
			":from": &types.AttributeValueMemberS{Value: q.From.String()},
			":to":   &types.AttributeValueMemberS{Value: q.To.AddDays(1).String()},
		},
	}
	if q.Limit > 0 {
		in.Limit = aws.Int32(int32(q.Limit))
	}
	if a := q.After; a != nil {
		in.ExclusiveStartKey = map[string]types.AttributeValue{
			"GSI1PK": &types.AttributeValueMemberS{Value: pk},
			"GSI1SK": &types.AttributeValueMemberS{Value: openInvoiceSK(*a)},
			attrPK:   &types.AttributeValueMemberS{Value: partyPK(credit.PartyCustomer, a.CustomerID)},
			attrSK:   &types.AttributeValueMemberS{Value: invoicePrefix + a.InvoiceID},
		}
	}
	res, err := s.Client.Query(ctx, in)
	if err != nil {
		return nil, false, credit.Internal(err, "dynamo: open invoices of branch %s", q.BranchID)
	}
	var items []invoiceItem
	if err := attributevalue.UnmarshalListOfMaps(res.Items, &items); err != nil {
		return nil, false, credit.Internal(err, "dynamo: decode invoices")
	}
	out := make([]credit.Invoice, len(items))
	for k, it := range items {
		out[k] = it.invoice()
	}
	return out, len(res.LastEvaluatedKey) == 0, nil
}

func (s *Store) GetCustomers(ctx context.Context, ids []string) (map[string]credit.Party, error) {
	keys := make([]map[string]types.AttributeValue, len(ids))
	for i, id := range ids {
		keys[i] = key(partyPK(credit.PartyCustomer, id), partySK)
	}
	raw, err := s.batchGet(ctx, keys)
	if err != nil {
		return nil, err
	}
	var items []partyItem
	if err := attributevalue.UnmarshalListOfMaps(raw, &items); err != nil {
		return nil, credit.Internal(err, "dynamo: decode customers")
	}
	out := make(map[string]credit.Party, len(items))
	for _, it := range items {
		out[it.ID] = it.party()
	}
	return out, nil
}
