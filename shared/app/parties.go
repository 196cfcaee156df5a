package app

import (
	"creditanalysis/shared/credit"
	"creditanalysis/shared/httpapi"
)

func init() {
	registerArea("parties", func(a *App) httpapi.Area {
		return &httpapi.PartiesHandler{Service: &credit.PartyService{Store: a.store, Now: a.now}}
	})
}
