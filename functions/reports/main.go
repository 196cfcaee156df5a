// Command reports is the Lambda function of the report PDFs: a
// consultation's report rendered on its first download and handed out
// through a short-lived link.
package main

import (
	"creditanalysis/shared/app"
	"creditanalysis/shared/app/bucket"
	"creditanalysis/shared/app/reports"
	"creditanalysis/shared/httpapi"
)

func main() {
	env := app.MustLoad()
	a := app.New(env.Config, app.DynamoDB(env.AWS), env.Log)
	cfg := bucket.ConfigFromEnv()
	httpapi.StartLambda(a.Server(reports.Handler(a, cfg, bucket.S3(env.AWS, cfg))))
}
