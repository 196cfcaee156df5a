// Package dynamodbcapacity measures the read and write capacity DynamoDB
// reports consumed by a client's calls. It is a measuring instrument for
// benchmarks, kept out of the production store.
package dynamodbcapacity

import (
	"context"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"
)

// Meter adds up the capacity DynamoDB reports consumed by every
// call of the clients it is installed on: it asks each call for
// ReturnConsumedCapacity INDEXES (the table and its indexes) and sums the
// answers as read or write units by operation. The billing rule's scale
// benchmark measures a whole run with it, every store's calls included.
type Meter struct {
	mu    sync.Mutex
	read  float64
	write float64
	calls int
}

// Option installs the meter on a client: dynamodb.NewFromConfig(cfg, m.Option()).
func (m *Meter) Option() func(*dynamodb.Options) {
	return func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
			return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("CapacityMeter", m.handle), middleware.Before)
		})
	}
}

// Consumed returns the read and write capacity units consumed so far and
// the number of calls.
func (m *Meter) Consumed() (read, write float64, calls int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.read, m.write, m.calls
}

func (m *Meter) handle(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
	in.Parameters = askCapacity(in.Parameters)
	out, md, err := next.HandleInitialize(ctx, in)
	if err == nil {
		m.add(out.Result)
	}
	return out, md, err
}

// askCapacity returns a copy of the input asking for the consumed
// capacity; the caller's input is left as it was.
func askCapacity(params any) any {
	const rc = types.ReturnConsumedCapacityIndexes
	switch v := params.(type) {
	case *dynamodb.GetItemInput:
		c := *v
		c.ReturnConsumedCapacity = rc
		return &c
	case *dynamodb.PutItemInput:
		c := *v
		c.ReturnConsumedCapacity = rc
		return &c
	case *dynamodb.UpdateItemInput:
		c := *v
		c.ReturnConsumedCapacity = rc
		return &c
	case *dynamodb.DeleteItemInput:
		c := *v
		c.ReturnConsumedCapacity = rc
		return &c
	case *dynamodb.QueryInput:
		c := *v
		c.ReturnConsumedCapacity = rc
		return &c
	case *dynamodb.ScanInput:
		c := *v
		c.ReturnConsumedCapacity = rc
		return &c
	case *dynamodb.BatchGetItemInput:
		c := *v
		c.ReturnConsumedCapacity = rc
		return &c
	case *dynamodb.BatchWriteItemInput:
		c := *v
		c.ReturnConsumedCapacity = rc
		return &c
	case *dynamodb.TransactGetItemsInput:
		c := *v
		c.ReturnConsumedCapacity = rc
		return &c
	case *dynamodb.TransactWriteItemsInput:
		c := *v
		c.ReturnConsumedCapacity = rc
		return &c
	}
	return params
}

func (m *Meter) add(result any) {
	var read, write float64
	sum := func(cs ...types.ConsumedCapacity) (total float64) {
		for _, c := range cs {
			if c.CapacityUnits != nil {
				total += *c.CapacityUnits
			}
		}
		return total
	}
	one := func(c *types.ConsumedCapacity) []types.ConsumedCapacity {
		if c == nil {
			return nil
		}
		return []types.ConsumedCapacity{*c}
	}
	switch v := result.(type) {
	case *dynamodb.GetItemOutput:
		read = sum(one(v.ConsumedCapacity)...)
	case *dynamodb.QueryOutput:
		read = sum(one(v.ConsumedCapacity)...)
	case *dynamodb.ScanOutput:
		read = sum(one(v.ConsumedCapacity)...)
	case *dynamodb.BatchGetItemOutput:
		read = sum(v.ConsumedCapacity...)
	case *dynamodb.TransactGetItemsOutput:
		read = sum(v.ConsumedCapacity...)
	case *dynamodb.PutItemOutput:
		write = sum(one(v.ConsumedCapacity)...)
	case *dynamodb.UpdateItemOutput:
		write = sum(one(v.ConsumedCapacity)...)
	case *dynamodb.DeleteItemOutput:
		write = sum(one(v.ConsumedCapacity)...)
	case *dynamodb.BatchWriteItemOutput:
		write = sum(v.ConsumedCapacity...)
	case *dynamodb.TransactWriteItemsOutput:
		write = sum(v.ConsumedCapacity...)
	default:
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.read += read
	m.write += write
	m.calls++
}
