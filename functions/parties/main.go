// Command parties is the Lambda function of the parties area.
package main

import (
	"creditanalysis/shared/app"
	"creditanalysis/shared/httpapi"
)

func main() {
	env := app.MustLoad()
	a := app.New(env.Config, app.DynamoDB(env.AWS), env.Log)
	httpapi.StartLambda(a.Server(a.PartiesHandler()))
}
