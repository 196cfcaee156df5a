// Command parameters is the Lambda function of the parameters area: the
// master switch, the repeat-consultation interval and the health check.
package main

import (
	"creditanalysis/shared/app"
	"creditanalysis/shared/httpapi"
)

func main() {
	env := app.MustLoad()
	a := app.New(env.Config, app.DynamoDB(env.AWS), env.Log)
	httpapi.StartLambda(a.Server(a.ParametersHandler()))
}
