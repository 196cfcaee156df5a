// Command billing-rule is the Lambda function of the billing rule (régua de
// cobrança): the daily schedule's run, the runs' routes, and the
// asynchronous invocations that execute a run started by an admin.
package main

import (
	"creditanalysis/shared/app"
	"creditanalysis/shared/app/billingrule"
	"creditanalysis/shared/app/bureau"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	env := app.MustLoad()
	a := app.New(env.Config, app.DynamoDB(env.AWS), env.Log)
	b := bureau.New(a, app.Must(bureau.ConfigFromEnv()), bureau.SecretsManager(env.AWS), bureau.HTTPClient())
	cfg := app.Must(billingrule.ConfigFromEnv())
	lambda.Start(billingrule.Function(b, cfg, billingrule.Lambda(env.AWS)).Invoke)
}
