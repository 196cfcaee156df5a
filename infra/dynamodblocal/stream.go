package dynamodblocal

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"creditanalysis/infra/localaws"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

// StreamPoller does locally what Lambda's event source mapping does in
// AWS: it reads the table's stream on DynamoDB Local (its DynamoDB Streams
// API) and hands each batch, as the DynamoDB event Lambda delivers, to
// Deliver. A batch Deliver fails is retried Attempts times, then halved
// (BisectBatchOnFunctionError); a single record that still fails is
// logged and passed over, as the mapping would send it to its dead-letter
// queue.
type StreamPoller struct {
	Client    *dynamodbstreams.Client
	StreamARN string
	Deliver   func(ctx context.Context, e events.DynamoDBEvent) error
	// Interval between polls; default 250 ms.
	Interval time.Duration
	// Attempts per batch; default 3.
	Attempts int
	Log      *slog.Logger

	iterators map[string]*string // open shard -> next iterator
	done      map[string]bool    // shards closed and read, or closed before Start
}

// StreamsClient is a DynamoDB Streams client on the DynamoDB Local at
// endpoint.
func StreamsClient(endpoint string) *dynamodbstreams.Client {
	return dynamodbstreams.NewFromConfig(localaws.Config(), func(o *dynamodbstreams.Options) { o.BaseEndpoint = aws.String(endpoint) })
}

// Start positions the poller after the stream's last record (what happened
// before it started was published by the run that wrote it) and polls
// until ctx ends. It returns once positioned, so that every change made
// after Start returns is delivered.
func (p *StreamPoller) Start(ctx context.Context) error {
	if p.Interval <= 0 {
		p.Interval = 250 * time.Millisecond
	}
	if p.Attempts <= 0 {
		p.Attempts = 3
	}
	p.iterators, p.done = map[string]*string{}, map[string]bool{}
	shards, err := p.shards(ctx)
	if err != nil {
		return err
	}
	for _, s := range shards {
		if s.SequenceNumberRange != nil && s.SequenceNumberRange.EndingSequenceNumber != nil {
			p.done[*s.ShardId] = true // closed before we started
			continue
		}
		it, err := p.iterator(ctx, *s.ShardId, types.ShardIteratorTypeLatest)
		if err != nil {
			return err
		}
		p.iterators[*s.ShardId] = it
	}
	go p.run(ctx)
	return nil
}

func (p *StreamPoller) run(ctx context.Context) {
	t := time.NewTicker(p.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := p.poll(ctx); err != nil && ctx.Err() == nil {
			p.Log.Warn("stream poll", slog.String("error", err.Error()))
		}
	}
}

func (p *StreamPoller) shards(ctx context.Context) ([]types.Shard, error) {
	var out []types.Shard
	var start *string
	for {
		d, err := p.Client.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(p.StreamARN), ExclusiveStartShardId: start})
		if err != nil {
			return nil, err
		}
		out = append(out, d.StreamDescription.Shards...)
		if d.StreamDescription.LastEvaluatedShardId == nil {
			return out, nil
		}
		start = d.StreamDescription.LastEvaluatedShardId
	}
}

func (p *StreamPoller) iterator(ctx context.Context, shard string, typ types.ShardIteratorType) (*string, error) {
	out, err := p.Client.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{
		StreamArn: aws.String(p.StreamARN), ShardId: aws.String(shard), ShardIteratorType: typ,
	})
	if err != nil {
		return nil, err
	}
	return out.ShardIterator, nil
}

// errClosed says a shard was read to its end.
var errClosed = errors.New("shard closed")

func (p *StreamPoller) poll(ctx context.Context) error {
	// Shards opened since the last poll are read from their start.
	shards, err := p.shards(ctx)
	if err != nil {
		return err
	}
	for _, s := range shards {
		id := *s.ShardId
		if _, open := p.iterators[id]; open || p.done[id] {
			continue
		}
		it, err := p.iterator(ctx, id, types.ShardIteratorTypeTrimHorizon)
		if err != nil {
			return err
		}
		p.iterators[id] = it
	}
	for id, it := range p.iterators {
		next, err := p.read(ctx, it)
		if errors.Is(err, errClosed) {
			delete(p.iterators, id)
			p.done[id] = true
			continue
		}
		if err != nil {
			return err
		}
		p.iterators[id] = next
	}
	return nil
}

func (p *StreamPoller) read(ctx context.Context, it *string) (*string, error) {
	for {
		out, err := p.Client.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: it, Limit: aws.Int32(100)})
		if err != nil {
			return it, err
		}
		if len(out.Records) > 0 {
			p.deliver(ctx, out.Records)
		}
		if out.NextShardIterator == nil {
			return nil, errClosed
		}
		if len(out.Records) == 0 {
			return out.NextShardIterator, nil
		}
		it = out.NextShardIterator
	}
}

func (p *StreamPoller) deliver(ctx context.Context, records []types.Record) {
	e := events.DynamoDBEvent{Records: make([]events.DynamoDBEventRecord, len(records))}
	for i, r := range records {
		rec := events.DynamoDBEventRecord{
			AWSRegion: aws.ToString(r.AwsRegion), EventID: aws.ToString(r.EventID), EventName: string(r.EventName),
			EventSource: "aws:dynamodb", EventVersion: aws.ToString(r.EventVersion), EventSourceArn: p.StreamARN,
		}
		if d := r.Dynamodb; d != nil {
			rec.Change = events.DynamoDBStreamRecord{
				Keys: item(d.Keys), NewImage: item(d.NewImage), OldImage: item(d.OldImage),
				SequenceNumber: aws.ToString(d.SequenceNumber), SizeBytes: aws.ToInt64(d.SizeBytes), StreamViewType: string(d.StreamViewType),
			}
			if d.ApproximateCreationDateTime != nil {
				rec.Change.ApproximateCreationDateTime = events.SecondsEpochTime{Time: *d.ApproximateCreationDateTime}
			}
		}
		e.Records[i] = rec
	}
	p.deliverEvent(ctx, e)
}

// deliverEvent hands e over, retrying; a batch that keeps failing is halved
// and each half delivered alone, as Lambda's BisectBatchOnFunctionError
// does, so that one record the handler refuses does not hold back the
// others. A single record that keeps failing is given up (in AWS, its
// position goes to the dead-letter queue).
func (p *StreamPoller) deliverEvent(ctx context.Context, e events.DynamoDBEvent) {
	var err error
	for attempt := 1; attempt <= p.Attempts; attempt++ {
		if err = p.Deliver(ctx, e); err == nil {
			return
		}
	}
	if n := len(e.Records); n > 1 {
		p.deliverEvent(ctx, events.DynamoDBEvent{Records: e.Records[:n/2]})
		p.deliverEvent(ctx, events.DynamoDBEvent{Records: e.Records[n/2:]})
		return
	}
	p.Log.Error("stream batch given up after every attempt", slog.Int("records", len(e.Records)),
		slog.String("firstSequenceNumber", e.Records[0].Change.SequenceNumber), slog.String("error", err.Error()))
}

func item(m map[string]types.AttributeValue) map[string]events.DynamoDBAttributeValue {
	if m == nil {
		return nil
	}
	out := make(map[string]events.DynamoDBAttributeValue, len(m))
	for k, v := range m {
		out[k] = value(v)
	}
	return out
}

func value(v types.AttributeValue) events.DynamoDBAttributeValue {
	switch x := v.(type) {
	case *types.AttributeValueMemberS:
		return events.NewStringAttribute(x.Value)
	case *types.AttributeValueMemberN:
		return events.NewNumberAttribute(x.Value)
	case *types.AttributeValueMemberB:
		return events.NewBinaryAttribute(x.Value)
	case *types.AttributeValueMemberBOOL:
		return events.NewBooleanAttribute(x.Value)
	case *types.AttributeValueMemberSS:
		return events.NewStringSetAttribute(x.Value)
	case *types.AttributeValueMemberNS:
		return events.NewNumberSetAttribute(x.Value)
	case *types.AttributeValueMemberBS:
		return events.NewBinarySetAttribute(x.Value)
	case *types.AttributeValueMemberL:
		l := make([]events.DynamoDBAttributeValue, len(x.Value))
		for i, e := range x.Value {
			l[i] = value(e)
		}
		return events.NewListAttribute(l)
	case *types.AttributeValueMemberM:
		return events.NewMapAttribute(item(x.Value))
	}
	return events.NewNullAttribute()
}
