package app

import (
	"creditanalysis/shared/credit"
	"creditanalysis/shared/httpapi"
	"creditanalysis/shared/pdf"
	"creditanalysis/shared/s3"
)

func init() {
	registerArea("consultations", func(a *App) httpapi.Area {
		return &httpapi.ConsultationsHandler{Service: a.Consultations()}
	})
}

// Consultations is the consultation service: the bureau behind the
// branch's integration, records in the table, report PDFs in the bucket.
func (a *App) Consultations() *credit.ConsultationService {
	var reports credit.ReportStore
	var archive credit.ReportArchive
	// Route listings (template and API document tests) build every area
	// without clients; a function always has its S3 client.
	if a.clients.S3 != nil {
		bucket := s3.New(a.clients.S3, a.cfg.ReportBucket)
		reports, archive = bucket, bucket
	}
	return &credit.ConsultationService{
		Parameters: a.store, Integrations: a.Integrations(), Parties: a.store, Store: a.store,
		Bureau: a.BureauAccess(), Reports: reports, Archive: archive, Renderer: pdf.Renderer{},
		ReportRetention: a.cfg.ReportRetention, Now: a.now, NewID: a.newID, Log: a.log,
	}
}
