// Command passwords is the Lambda function of the password changes: the
// consultation and PEFIN passwords of an integration, changed at the bureau
// and in Secrets Manager together.
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
	httpapi.StartLambda(b.Server(b.PasswordsHandler()))
}
