// Command event-publisher is the Lambda function that publishes the domain
// events: it reads the table's change stream and puts the events of the
// committed records on the stage's EventBridge bus.
package main

import (
	"creditanalysis/shared/app"
	"creditanalysis/shared/app/events"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	env := app.MustLoad()
	cfg := app.Must(events.ConfigFromEnv())
	lambda.Start(events.Handler(cfg, events.EventBridge(env.AWS), env.Log).Invoke)
}
