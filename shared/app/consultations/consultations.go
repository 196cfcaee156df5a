// Package consultations wires the consultation center: the bureau access
// of package bureau, the records in the table, and the archived reports in
// the report bucket. Only the consultations function imports it. The PDFs
// are package reports' (their own function), so this one links neither the
// PDF renderer nor its dependencies.
package consultations

import (
	"creditanalysis/shared/app/bucket"
	"creditanalysis/shared/app/bureau"
	"creditanalysis/shared/credit"
	"creditanalysis/shared/httpapi"
	"creditanalysis/shared/s3"

	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
)

// Service is the consultation service: the bureau behind the branch's
// integration, records in the table, and the archived full reports (and
// the PDFs an erasure deletes) in cfg's bucket on client. A nil client
// serves only to list routes.
func Service(b *bureau.App, cfg bucket.Config, client *awss3.Client) *credit.ConsultationService {
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
		Bureau: b.Access(), Reports: reports, Archive: archive,
		ReportRetention: b.Config.ReportRetention, Now: b.Now, NewID: b.NewID, Log: b.Log,
	}
}

// Handler is the consultations area on Service, with the erasure of
// parties, which deletes the reports the area keeps.
func Handler(b *bureau.App, cfg bucket.Config, client *awss3.Client) *httpapi.ConsultationsHandler {
	svc := Service(b, cfg, client)
	return &httpapi.ConsultationsHandler{Service: svc, Erasure: &credit.ErasureService{
		Parties: b.Store, Consultations: b.Store, Negativations: b.Store, Reports: svc.Reports, Archive: svc.Archive,
		Now: b.Now, Log: b.Log,
	}}
}
