// Command audit is the Lambda function that serves the audit trail to
// admins; every other function appends to it.
package main

import (
	"creditanalysis/shared/app"
	"creditanalysis/shared/httpapi"
)

func main() {
	env := app.MustLoad()
	a := app.New(env.Config, app.DynamoDB(env.AWS), env.Log)
	httpapi.StartLambda(a.Server(a.AuditHandler()))
}
