// Package dynamodbcapacity measures the read and write capacity DynamoDB
// reports consumed by a client's calls. It is a measuring instrument for
// benchmarks, kept out of the production store.
package dynamodbcapacity

import (
	"context"
	"fmt"
	"strings"
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
	// writesBy: write units by operation and by the table or index they
	// were spent on.
	writesBy map[string]float64
}

// WritesBy returns the write units consumed so far, keyed by
// "<operation> <table or index>" (for example "TransactWriteItems GSI2"):
// where a write's cost goes.
func (m *Meter) WritesBy() map[string]float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]float64, len(m.writesBy))
	for k, v := range m.writesBy {
		out[k] = v
	}
	return out
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
		m.add(operationOf(out.Result), out.Result)
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

// operationOf names a call by its output's type: "PutItem" for
// *dynamodb.PutItemOutput.
func operationOf(result any) string {
	name := fmt.Sprintf("%T", result)
	return strings.TrimSuffix(name[strings.LastIndex(name, ".")+1:], "Output")
}

func (m *Meter) add(op string, result any) {
	var read, write float64
	var writes []types.ConsumedCapacity
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
		writes = one(v.ConsumedCapacity)
	case *dynamodb.UpdateItemOutput:
		writes = one(v.ConsumedCapacity)
	case *dynamodb.DeleteItemOutput:
		writes = one(v.ConsumedCapacity)
	case *dynamodb.BatchWriteItemOutput:
		writes = v.ConsumedCapacity
	case *dynamodb.TransactWriteItemsOutput:
		writes = v.ConsumedCapacity
	default:
		return
	}
	write = sum(writes...)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.read += read
	m.write += write
	m.calls++
	for _, c := range writes {
		if m.writesBy == nil {
			m.writesBy = map[string]float64{}
		}
		if c.Table != nil && c.Table.CapacityUnits != nil {
			m.writesBy[op+" table"] += *c.Table.CapacityUnits
		}
		for name, ix := range c.GlobalSecondaryIndexes {
			if ix.CapacityUnits != nil {
				m.writesBy[op+" "+name] += *ix.CapacityUnits
			}
		}
	}
}
