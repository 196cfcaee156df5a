package tablestream_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"creditanalysis/shared/awslambda/tablestream"
	"creditanalysis/shared/credit"
	"creditanalysis/shared/dynamo"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func fixture(t *testing.T) events.DynamoDBEvent {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "events", "event-publisher", "negativation-activated.json"))
	require.NoError(t, err)
	var e events.DynamoDBEvent
	require.NoError(t, json.Unmarshal(b, &e))
	return e
}

// TestLambdaBatchBecomesEvents reads the batch Lambda delivers (both
// images, nested maps and lists) into the domain's events.
func TestLambdaBatchBecomesEvents(t *testing.T) {
	records, err := tablestream.Records(fixture(t))
	require.NoError(t, err)
	require.Len(t, records, 2)
	evs, err := dynamo.DomainEvents(records)
	require.NoError(t, err)
	require.Len(t, evs, 1, "the audit item stands for no event")
	e := evs[0]
	assert.Equal(t, "negativation/neg-fixture/active/3", e.ID)
	assert.Equal(t, credit.NegativationPending, e.PreviousStatus)
	assert.Equal(t, "2026-10-06T09:00:00Z", e.At.UTC().Format("2006-01-02T15:04:05Z07:00"))
	require.Len(t, e.Negativation.History, 3)
	assert.Equal(t, "Cobrança", e.Negativation.History[2].By.Name)
	assert.Equal(t, "***.982.247-**", e.Negativation.Document.Masked())
}

func TestFailedBatchIsRetried(t *testing.T) {
	boom := errors.New("bus unavailable")
	h := &tablestream.Handler{Log: slog.New(slog.DiscardHandler),
		Publish: func(context.Context, []dynamo.StreamRecord) error { return boom }}
	assert.ErrorIs(t, h.Invoke(context.Background(), fixture(t)), boom, "an error makes Lambda retry the batch")
}
