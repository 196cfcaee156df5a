package app

import (
	"creditanalysis/shared/credit"
	"creditanalysis/shared/httpapi"
)

func init() {
	registerArea("negativations", func(a *App) httpapi.Area {
		return &httpapi.NegativationsHandler{Service: a.Negativations()}
	})
}

// Negativations is the negativation service: the HTTP area's, and the one
// the billing rule includes, removes and syncs through (Origin automatic,
// with its run id), so both obey the same rules and the same per-invoice
// idempotency.
func (a *App) Negativations() *credit.NegativationService {
	return &credit.NegativationService{
		Store: a.store, Parties: a.store, Parameters: a.store, Integrations: a.store, Bureau: a.BureauAccess(),
		Now: a.now, NewID: a.newID, Log: a.log,
	}
}
