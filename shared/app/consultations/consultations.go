// Package consultations wires the consultation center: the bureau access
// of package bureau, the records in the table, and the report PDFs rendered
// by package pdf and kept in S3. Only the consultations function imports it,
// so only it links the S3 client and the PDF renderer.
package consultations

import (
	"os"

	"creditanalysis/shared/app"
	"creditanalysis/shared/app/bureau"
	"creditanalysis/shared/credit"
	"creditanalysis/shared/httpapi"
	"creditanalysis/shared/pdf"
	"creditanalysis/shared/s3"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
)

// Config is what the environment tells the consultations function.
type Config struct {
	// ReportBucket keeps the report PDFs (REPORT_BUCKET).
	ReportBucket string
	// PathStyle makes the S3 client use path-style addressing, as local
	// stand-ins need (S3_FORCE_PATH_STYLE=true).
	PathStyle bool
}

// ConfigFromEnv reads Config from the environment.
func ConfigFromEnv() Config {
	return Config{
		ReportBucket: os.Getenv("REPORT_BUCKET"),
		PathStyle:    os.Getenv("S3_FORCE_PATH_STYLE") == "true",
	}
}

// S3 is the S3 client on awsCfg (AWS_ENDPOINT_URL_S3 points it at a
// stand-in).
func S3(awsCfg aws.Config, cfg Config) *awss3.Client {
	return awss3.NewFromConfig(awsCfg, func(o *awss3.Options) {
		o.BaseEndpoint = app.ServiceEndpoint(awsCfg, "S3")
		o.UsePathStyle = cfg.PathStyle
	})
}

// Service is the consultation service: the bureau behind the branch's
// integration, records in the table, report PDFs and the archived full
// reports in cfg's bucket on client. A nil client serves only to list routes.
func Service(b *bureau.App, cfg Config, client *awss3.Client) *credit.ConsultationService {
	var reports credit.ReportStore
	var archive credit.ReportArchive
	if client != nil {
		bucket := s3.New(client, cfg.ReportBucket)
		reports, archive = bucket, bucket
	}
	return &credit.ConsultationService{
		Parameters: b.Store, Integrations: b.Integrations(), Parties: b.Store, Store: b.Store,
		// One per cold start: a warm container trusts the parameters and the
		// branches' integrations it read for credit.WarmReadTTL.
		Reads:  &credit.ConsultationReads{TTL: credit.WarmReadTTL, Now: b.Now},
		Bureau: b.Access(), Reports: reports, Archive: archive, Renderer: pdf.Renderer{},
		ReportRetention: b.Config.ReportRetention, Now: b.Now, NewID: b.NewID, Log: b.Log,
	}
}

// Handler is the consultations area on Service, with the erasure of
// parties, which deletes the reports the area keeps.
func Handler(b *bureau.App, cfg Config, client *awss3.Client) *httpapi.ConsultationsHandler {
	svc := Service(b, cfg, client)
	return &httpapi.ConsultationsHandler{Service: svc, Erasure: &credit.ErasureService{
		Parties: b.Store, Consultations: b.Store, Negativations: b.Store, Reports: svc.Reports, Archive: svc.Archive,
		Now: b.Now, Log: b.Log,
	}}
}
