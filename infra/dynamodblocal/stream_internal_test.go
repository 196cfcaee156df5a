package dynamodblocal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
)

// TestDeliverHalvesABatchThatKeepsFailing: as Lambda's
// BisectBatchOnFunctionError does, a batch the handler keeps refusing is
// halved until the one record it refuses is given up alone; every other
// record is delivered.
func TestDeliverHalvesABatchThatKeepsFailing(t *testing.T) {
	var logs bytes.Buffer
	var delivered []string
	p := &StreamPoller{Attempts: 2, Log: slog.New(slog.NewJSONHandler(&logs, nil)),
		Deliver: func(_ context.Context, e events.DynamoDBEvent) error {
			var seqs []string
			for _, r := range e.Records {
				seqs = append(seqs, r.Change.SequenceNumber)
			}
			if slices.Contains(seqs, "3") {
				return errors.New("cannot decode record 3")
			}
			delivered = append(delivered, seqs...)
			return nil
		}}
	var e events.DynamoDBEvent
	for k := range 6 {
		e.Records = append(e.Records, events.DynamoDBEventRecord{Change: events.DynamoDBStreamRecord{SequenceNumber: fmt.Sprint(k)}})
	}
	p.deliverEvent(context.Background(), e)
	slices.Sort(delivered)
	assert.Equal(t, []string{"0", "1", "2", "4", "5"}, delivered)
	assert.Equal(t, 1, bytes.Count(logs.Bytes(), []byte("given up")), "%s", logs.String())
	assert.Contains(t, logs.String(), `"firstSequenceNumber":"3"`)
}
