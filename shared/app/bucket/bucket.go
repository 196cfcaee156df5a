// Package bucket is the report bucket's configuration and S3 client, for
// the functions that keep reports: consultations (the archived reports, and
// the erasure's deletes) and reports (the PDFs).
package bucket

import (
	"os"

	"creditanalysis/shared/app"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
)

// Config is what the environment tells about the report bucket.
type Config struct {
	// ReportBucket keeps the report PDFs and the archived reports
	// (REPORT_BUCKET).
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
