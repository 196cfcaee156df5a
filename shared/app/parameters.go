package app

import (
	"creditanalysis/shared/credit"
	"creditanalysis/shared/httpapi"
)

func init() {
	registerArea("parameters", func(a *App) httpapi.Area {
		return &httpapi.ParametersHandler{Service: &credit.ParametersService{Store: a.store}}
	})
}
