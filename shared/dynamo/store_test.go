package dynamo_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"creditanalysis/infra/dynamodblocal"
	"creditanalysis/infra/localaws"
	"creditanalysis/shared/credit"
	"creditanalysis/shared/credit/credittest"
	"creditanalysis/shared/dynamo"

	"github.com/stretchr/testify/require"
)

var tableSeq atomic.Int64

// newStore creates a fresh table on DynamoDB Local for one test.
func newStore(t *testing.T) *dynamo.Store {
	t.Helper()
	client := localaws.DynamoDB(dynamodblocal.TestEndpoint(t))
	name := fmt.Sprintf("test-%d-%d", time.Now().UnixNano(), tableSeq.Add(1))
	ctx := context.Background()
	require.NoError(t, dynamo.EnsureTable(ctx, client, name))
	return dynamo.New(client, name)
}

func TestParametersStoreContract(t *testing.T) {
	credittest.ParametersStore(t, func(t *testing.T) credit.ParametersStore { return newStore(t) })
}

func TestIntegrationStoreContract(t *testing.T) {
	credittest.IntegrationStore(t, func(t *testing.T) credit.IntegrationStore { return newStore(t) })
}

func TestPartyStoreContract(t *testing.T) {
	credittest.PartyStore(t, func(t *testing.T) credit.PartyStore { return newStore(t) })
}
