// Package reports wires the report PDFs: a consultation's report, read from
// the table and the archive, rendered by package pdf on its first download
// and kept in the report bucket, handed out through a short-lived link.
// Only the reports function imports it: it links the PDF renderer and S3,
// and neither the bureau nor Secrets Manager, whose credentials it never
// needs.
package reports

import (
	"creditanalysis/shared/app"
	"creditanalysis/shared/app/bucket"
	"creditanalysis/shared/credit"
	"creditanalysis/shared/httpapi"
	"creditanalysis/shared/pdf"
	"creditanalysis/shared/s3"

	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
)

// Service is the part of the consultation service the PDFs use: the
// records in the table, the archive and the PDFs in cfg's bucket on client,
// and the renderer. A nil client serves only to list routes.
func Service(a *app.App, cfg bucket.Config, client *awss3.Client) *credit.ConsultationService {
	svc := &credit.ConsultationService{Store: a.Store, Parties: a.Store, Renderer: pdf.Renderer{}, Now: a.Now, NewID: a.NewID, Log: a.Log}
	if client != nil {
		b := s3.New(client, cfg.ReportBucket)
		svc.Reports, svc.Archive = b, b
	}
	return svc
}

// Handler is the reports area on Service.
func Handler(a *app.App, cfg bucket.Config, client *awss3.Client) *httpapi.ReportsHandler {
	return &httpapi.ReportsHandler{Service: Service(a, cfg, client)}
}
