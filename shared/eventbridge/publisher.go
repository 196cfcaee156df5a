// Package eventbridge is the EventBridge adapter: it publishes the domain
// events to the stage's bus with PutEvents, each event's detail in the
// shape events.schema.json documents. A detail carries ids, the branch,
// the integration, statuses with their times and the masked document;
// never a name, a full document or a report.
package eventbridge

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"creditanalysis/shared/credit"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
)

// PutEventsAPI is the part of the EventBridge client the publisher uses.
type PutEventsAPI interface {
	PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, optFns ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

// maxEntries is PutEvents' limit of entries per call.
const maxEntries = 10

// Publisher puts events on Bus.
type Publisher struct {
	Client PutEventsAPI
	Bus    string
	// Attempts bounds the calls for entries EventBridge refused (throttled,
	// internal failure); default 3. The caller retries the rest.
	Attempts int
	// Backoff is the wait before the second attempt, doubled after each;
	// default 200 ms.
	Backoff time.Duration
}

var _ credit.EventPublisher = (*Publisher)(nil)

// Publish puts events in order, ten per call. Entries EventBridge refuses
// are tried again; an error says some event was still not accepted, and
// the caller retries all of them (consumers dedupe on detail.eventId).
// Errors: internal.
func (p *Publisher) Publish(ctx context.Context, events []credit.DomainEvent) error {
	for start := 0; start < len(events); start += maxEntries {
		batch := events[start:min(start+maxEntries, len(events))]
		entries := make([]types.PutEventsRequestEntry, len(batch))
		for i, e := range batch {
			entry, err := p.entry(e)
			if err != nil {
				return err
			}
			entries[i] = entry
		}
		if err := p.put(ctx, entries); err != nil {
			return err
		}
	}
	return nil
}

func (p *Publisher) put(ctx context.Context, entries []types.PutEventsRequestEntry) error {
	attempts, wait := p.Attempts, p.Backoff
	if attempts <= 0 {
		attempts = 3
	}
	if wait <= 0 {
		wait = 200 * time.Millisecond
	}
	var last error
	for attempt := 1; ; attempt++ {
		out, err := p.Client.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: entries})
		switch {
		case err != nil:
			last = err
		case out.FailedEntryCount == 0:
			return nil
		default:
			var retry []types.PutEventsRequestEntry
			for i, r := range out.Entries {
				if r.ErrorCode != nil && i < len(entries) {
					retry = append(retry, entries[i])
					last = fmt.Errorf("%s: %s", aws.ToString(r.ErrorCode), aws.ToString(r.ErrorMessage))
				}
			}
			entries = retry
		}
		if attempt >= attempts {
			return credit.Internal(last, "eventbridge: put %d events on %s", len(entries), p.Bus)
		}
		select {
		case <-ctx.Done():
			return credit.Internal(ctx.Err(), "eventbridge: put events")
		case <-time.After(wait):
		}
		wait *= 2
	}
}

func (p *Publisher) entry(e credit.DomainEvent) (types.PutEventsRequestEntry, error) {
	detail, err := json.Marshal(Detail(e))
	if err != nil {
		return types.PutEventsRequestEntry{}, credit.Internal(err, "eventbridge: encode %s", e.ID)
	}
	return types.PutEventsRequestEntry{
		EventBusName: aws.String(p.Bus),
		Source:       aws.String(credit.EventSource),
		DetailType:   aws.String(string(e.Type)),
		Detail:       aws.String(string(detail)),
		Time:         aws.Time(e.At),
	}, nil
}
