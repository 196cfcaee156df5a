// Package tablestream is the Lambda side of the table's change stream: it
// reads the DynamoDB stream event Lambda's event source mapping delivers
// and hands its records to the event publisher. An error fails the whole
// batch; the mapping retries it, halving it to isolate a bad record, and
// sends what still fails to the dead-letter queue (template.yaml).
package tablestream

import (
	"context"
	"fmt"
	"log/slog"

	"creditanalysis/shared/awslambda/lambdalog"
	"creditanalysis/shared/dynamo"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Handler is the publisher function's entry point.
type Handler struct {
	// Publish turns the changes into events and publishes them; an error
	// makes Lambda retry the batch.
	Publish func(ctx context.Context, records []dynamo.StreamRecord) error
	Log     *slog.Logger
}

// Invoke handles one batch of stream records.
func (h *Handler) Invoke(ctx context.Context, e events.DynamoDBEvent) error {
	ctx = lambdalog.WithInvocation(ctx)
	records, err := Records(e)
	if err != nil {
		// An image Lambda delivered but this code cannot read: a retry
		// reads it no better, the dead-letter queue keeps its position.
		h.Log.ErrorContext(ctx, "stream batch unreadable", slog.String("error", err.Error()))
		return err
	}
	if err := h.Publish(ctx, records); err != nil {
		h.Log.ErrorContext(ctx, "stream batch not published", slog.Int("records", len(records)), slog.String("error", err.Error()))
		return err
	}
	return nil
}

// Records converts the event's records.
func Records(e events.DynamoDBEvent) ([]dynamo.StreamRecord, error) {
	out := make([]dynamo.StreamRecord, 0, len(e.Records))
	for _, r := range e.Records {
		rec := dynamo.StreamRecord{EventName: r.EventName}
		var err error
		if rec.Keys, err = item(r.Change.Keys); err != nil {
			return nil, fmt.Errorf("record %s keys: %w", r.EventID, err)
		}
		if rec.NewImage, err = item(r.Change.NewImage); err != nil {
			return nil, fmt.Errorf("record %s new image: %w", r.EventID, err)
		}
		if rec.OldImage, err = item(r.Change.OldImage); err != nil {
			return nil, fmt.Errorf("record %s old image: %w", r.EventID, err)
		}
		out = append(out, rec)
	}
	return out, nil
}

func item(m map[string]events.DynamoDBAttributeValue) (map[string]types.AttributeValue, error) {
	if m == nil {
		return nil, nil
	}
	out := make(map[string]types.AttributeValue, len(m))
	for k, v := range m {
		av, err := value(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		out[k] = av
	}
	return out, nil
}

func value(v events.DynamoDBAttributeValue) (types.AttributeValue, error) {
	switch v.DataType() {
	case events.DataTypeString:
		return &types.AttributeValueMemberS{Value: v.String()}, nil
	case events.DataTypeNumber:
		return &types.AttributeValueMemberN{Value: v.Number()}, nil
	case events.DataTypeBinary:
		return &types.AttributeValueMemberB{Value: v.Binary()}, nil
	case events.DataTypeBoolean:
		return &types.AttributeValueMemberBOOL{Value: v.Boolean()}, nil
	case events.DataTypeNull:
		return &types.AttributeValueMemberNULL{Value: true}, nil
	case events.DataTypeStringSet:
		return &types.AttributeValueMemberSS{Value: v.StringSet()}, nil
	case events.DataTypeNumberSet:
		return &types.AttributeValueMemberNS{Value: v.NumberSet()}, nil
	case events.DataTypeBinarySet:
		return &types.AttributeValueMemberBS{Value: v.BinarySet()}, nil
	case events.DataTypeList:
		list := v.List()
		out := make([]types.AttributeValue, len(list))
		for i, x := range list {
			av, err := value(x)
			if err != nil {
				return nil, err
			}
			out[i] = av
		}
		return &types.AttributeValueMemberL{Value: out}, nil
	case events.DataTypeMap:
		m, err := item(v.Map())
		if err != nil {
			return nil, err
		}
		return &types.AttributeValueMemberM{Value: m}, nil
	}
	return nil, fmt.Errorf("attribute of unknown type %v", v.DataType())
}
