// Command consultations is the Lambda function of the consultation center:
// credit consultations of parties and documents and their records (the
// report PDFs are the reports function's).
package main

import (
	"creditanalysis/shared/app"
	"creditanalysis/shared/app/bucket"
	"creditanalysis/shared/app/bureau"
	"creditanalysis/shared/app/consultations"
	"creditanalysis/shared/httpapi"
)

func main() {
	env := app.MustLoad()
	a := app.New(env.Config, app.DynamoDB(env.AWS), env.Log)
	b := bureau.New(a, app.Must(bureau.ConfigFromEnv()), bureau.SecretsManager(env.AWS), bureau.HTTPClient())
	cfg := bucket.ConfigFromEnv()
	httpapi.StartLambda(b.Server(consultations.Handler(b, cfg, bucket.S3(env.AWS, cfg))))
}
