package app

import "creditanalysis/shared/httpapi"

func init() {
	registerArea("audit", func(a *App) httpapi.Area { return &httpapi.AuditHandler{Log: a.store} })
}
