// Command negativations is the Lambda function of the negativations area:
// including debtors with the bureau, following the records, removing them.
package main

import (
	"creditanalysis/shared/app"
	"creditanalysis/shared/app/bureau"
	"creditanalysis/shared/httpapi"
)

func main() {
	env := app.MustLoad()
	a := app.New(env.Config, app.DynamoDB(env.AWS), env.Log)
	b := bureau.New(a, app.Must(bureau.ConfigFromEnv()), bureau.SecretsManager(env.AWS), bureau.HTTPClient())
	httpapi.StartLambda(b.Server(b.NegativationsHandler()))
}
