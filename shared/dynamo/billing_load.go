package dynamo

import (
	"context"
	"errors"
	"sync"
	"time"

	"creditanalysis/shared/credit"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// loadParallelism is how many BatchWriteItem calls LoadInvoices keeps in
// flight.
const loadParallelism = 8

// LoadInvoices writes many invoices at once (BatchWriteItem, 25 a call, a
// few calls at a time), each item exactly as PutInvoice writes it, so that
// open ones enter the billing rule's index. Unlike PutInvoice it does not
// check that each customer exists: it is the bulk import of an ERP's data,
// whose customers are loaded first (and the billing rule's scale
// benchmark's seeding). Errors: internal.
func (s *Store) LoadInvoices(ctx context.Context, invoices []credit.Invoice) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if first == nil {
			first = err
		}
	}
	failed := func() bool {
		mu.Lock()
		defer mu.Unlock()
		return first != nil
	}
	slots := make(chan struct{}, loadParallelism)
	for start := 0; start < len(invoices) && !failed(); start += 25 {
		writes, err := invoiceWrites(invoices[start:min(start+25, len(invoices))])
		if err != nil {
			fail(err)
			break
		}
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			if err := s.batchWrite(ctx, writes); err != nil {
				fail(err)
			}
		}()
	}
	wg.Wait()
	return first
}

func invoiceWrites(invoices []credit.Invoice) ([]types.WriteRequest, error) {
	writes := make([]types.WriteRequest, len(invoices))
	for k, inv := range invoices {
		item, err := invoiceAV(inv)
		if err != nil {
			return nil, err
		}
		writes[k] = types.WriteRequest{PutRequest: &types.PutRequest{Item: item}}
	}
	return writes, nil
}

// batchWrite writes up to 25 items, retrying what DynamoDB leaves
// unprocessed.
func (s *Store) batchWrite(ctx context.Context, writes []types.WriteRequest) error {
	pending := map[string][]types.WriteRequest{s.Table: writes}
	for attempt := 0; len(pending) > 0; attempt++ {
		if attempt > 0 {
			if attempt > 8 {
				return credit.Internal(errors.New("unprocessed items remain"), "dynamo: batch write")
			}
			select {
			case <-ctx.Done():
				return credit.Internal(ctx.Err(), "dynamo: batch write")
			case <-time.After(time.Duration(10<<attempt) * time.Millisecond):
			}
		}
		res, err := s.Client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
		if err != nil {
			return credit.Internal(err, "dynamo: batch write")
		}
		pending = res.UnprocessedItems
	}
	return nil
}
