package dynamo

// The table's change stream is the outbox of the domain events: every
// committed write of a consultation, a negativation, a billing run or an
// overdue-removal record reaches the stream, and DomainEvents turns those
// changes into events. Nothing on a request's path writes anything more for
// an event; the overdue-removal record is a fact of its own, written once
// per negativation.
//
//	item              PK                          SK
//	removal overdue   NEGATIVATION#<id>           REMOVAL_OVERDUE
//
// The overdue record lives in the negativation's partition and is created
// with attribute_not_exists, which makes "once per record" a conditional
// write rather than a read before it.

import (
	"context"
	"strings"

	"creditanalysis/shared/credit"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

const removalOverdueSK = "REMOVAL_OVERDUE"

var _ credit.OverdueRemovalStore = (*Store)(nil)

// StreamRecord is one change of an item, as the table's stream (with
// StreamViewType NEW_AND_OLD_IMAGES) tells it.
type StreamRecord struct {
	// EventName is INSERT, MODIFY or REMOVE.
	EventName string
	Keys      map[string]types.AttributeValue
	OldImage  map[string]types.AttributeValue
	NewImage  map[string]types.AttributeValue
}

type removalOverdueItem struct {
	NegativationID string `dynamodbav:"negativationId"`
	IntegrationID  string `dynamodbav:"integrationId"`
	BranchID       string `dynamodbav:"branchId"`
	CustomerID     string `dynamodbav:"customerId"`
	InvoiceID      string `dynamodbav:"invoiceId"`
	Document       string `dynamodbav:"document"`
	Status         string `dynamodbav:"status"`
	InvoiceStatus  string `dynamodbav:"invoiceStatus"`
	SettledOn      string `dynamodbav:"settledOn"`
	Deadline       string `dynamodbav:"deadline"`
	DetectedAt     string `dynamodbav:"detectedAt"`
}

// RecordRemovalOverdue writes the negativation's overdue record unless it
// has one. Errors: internal.
func (s *Store) RecordRemovalOverdue(ctx context.Context, o credit.RemovalOverdue) (bool, error) {
	item, err := marshal(removalOverdueItem{
		NegativationID: o.NegativationID, IntegrationID: o.IntegrationID, BranchID: o.BranchID, CustomerID: o.CustomerID,
		InvoiceID: o.InvoiceID, Document: o.Document.Number(), Status: string(o.Status), InvoiceStatus: string(o.InvoiceStatus),
		SettledOn: dateString(o.SettledOn), Deadline: dateString(o.Deadline), DetectedAt: formatTime(o.DetectedAt),
	}, map[string]string{attrPK: negativationPK(o.NegativationID), attrSK: removalOverdueSK})
	if err != nil {
		return false, err
	}
	_, err = s.Client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.Table), Item: item, ConditionExpression: aws.String("attribute_not_exists(PK)"),
	})
	switch {
	case err == nil:
		return true, nil
	case isConditionFailed(err):
		return false, nil
	}
	return false, credit.Internal(err, "dynamo: record overdue removal of %s", o.NegativationID)
}

func (it removalOverdueItem) overdue() credit.RemovalOverdue {
	doc, _ := credit.ParseDocument(it.Document)
	return credit.RemovalOverdue{
		NegativationID: it.NegativationID, IntegrationID: it.IntegrationID, BranchID: it.BranchID, CustomerID: it.CustomerID,
		InvoiceID: it.InvoiceID, Document: doc, Status: credit.NegativationStatus(it.Status),
		InvoiceStatus: credit.InvoiceStatus(it.InvoiceStatus), SettledOn: parseDate(it.SettledOn), Deadline: parseDate(it.Deadline),
		DetectedAt: parseTime(it.DetectedAt),
	}
}

// DomainEvents turns the stream's changes into the events they stand for,
// in the stream's order; changes of other items (markers, indexes'
// entries, counters, audit) stand for none. Errors: internal, for an image
// that cannot be read.
func DomainEvents(records []StreamRecord) ([]credit.DomainEvent, error) {
	var out []credit.DomainEvent
	for _, r := range records {
		if r.EventName == "REMOVE" || r.NewImage == nil {
			continue
		}
		pk, sk := avString(r.NewImage[attrPK]), avString(r.NewImage[attrSK])
		switch {
		case strings.HasPrefix(pk, consultationPK("")) && sk == consultationSK && r.EventName == "INSERT":
			var it consultationItem
			if err := attributevalue.UnmarshalMap(r.NewImage, &it); err != nil {
				return nil, credit.Internal(err, "dynamo: decode consultation change")
			}
			it.Report = nil
			c, err := it.consultation()
			if err != nil {
				return nil, err
			}
			out = append(out, credit.ConsultationRecorded(c))
		case strings.HasPrefix(pk, negativationPK("")) && sk == negativationSK:
			before, n, err := images(r, decodeNegativation)
			if err != nil {
				return nil, err
			}
			if e, ok := credit.NegativationStatusChanged(before, n); ok {
				out = append(out, e)
			}
		case strings.HasPrefix(pk, negativationPK("")) && sk == removalOverdueSK && r.EventName == "INSERT":
			var it removalOverdueItem
			if err := attributevalue.UnmarshalMap(r.NewImage, &it); err != nil {
				return nil, credit.Internal(err, "dynamo: decode overdue removal")
			}
			out = append(out, credit.RemovalOverdueEvent(it.overdue()))
		case strings.HasPrefix(pk, billingRunPK("")) && sk == billingRunSK:
			before, run, err := images(r, decodeBillingRun)
			if err != nil {
				return nil, err
			}
			if e, ok := credit.BillingRunFinishedEvent(before, run); ok {
				out = append(out, e)
			}
		}
	}
	return out, nil
}

// images decodes a change's new image and, when it has one, its old.
func images[T any](r StreamRecord, decode func(map[string]types.AttributeValue) (T, error)) (before *T, after T, err error) {
	if after, err = decode(r.NewImage); err != nil {
		return nil, after, err
	}
	if r.OldImage != nil {
		b, err := decode(r.OldImage)
		if err != nil {
			return nil, after, err
		}
		before = &b
	}
	return before, after, nil
}

func decodeNegativation(image map[string]types.AttributeValue) (credit.Negativation, error) {
	var it negativationItem
	if err := attributevalue.UnmarshalMap(image, &it); err != nil {
		return credit.Negativation{}, credit.Internal(err, "dynamo: decode negativation change")
	}
	return it.negativation(), nil
}

func decodeBillingRun(image map[string]types.AttributeValue) (credit.BillingRun, error) {
	var it billingRunItem
	if err := attributevalue.UnmarshalMap(image, &it); err != nil {
		return credit.BillingRun{}, credit.Internal(err, "dynamo: decode billing run change")
	}
	return it.run(), nil
}
