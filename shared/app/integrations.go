package app

import (
	"creditanalysis/shared/credit"
	"creditanalysis/shared/httpapi"
)

func init() {
	registerArea("integrations", func(a *App) httpapi.Area {
		return &httpapi.IntegrationsHandler{Service: a.Integrations()}
	})
}

// Integrations is the integrations service, which other areas use to find a
// branch's integration and its credentials.
func (a *App) Integrations() *credit.IntegrationService {
	return &credit.IntegrationService{
		Store: a.store, Secrets: a.secrets, Bureau: a.BureauAccess(),
		Offered: a.plans, Now: a.now, NewID: a.newID, Log: a.log,
	}
}
