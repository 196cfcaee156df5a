package eventbridgelocal

import (
	"creditanalysis/infra/localaws"

	"github.com/aws/aws-sdk-go-v2/aws"
	eb "github.com/aws/aws-sdk-go-v2/service/eventbridge"
)

// Client returns an EventBridge client of the real SDK pointed at the
// stand-in at endpoint.
func Client(endpoint string) *eb.Client {
	return eb.NewFromConfig(localaws.Config(), func(o *eb.Options) { o.BaseEndpoint = aws.String(endpoint) })
}
