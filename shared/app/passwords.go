package app

import (
	"creditanalysis/shared/credit"
	"creditanalysis/shared/httpapi"
)

func init() {
	registerArea("passwords", func(a *App) httpapi.Area {
		return &httpapi.PasswordsHandler{Service: a.Passwords()}
	})
}

// Passwords is the password-change service.
func (a *App) Passwords() *credit.PasswordService {
	return &credit.PasswordService{
		Integrations: a.store, Store: a.store, Secrets: a.secrets, Bureau: a.bureau,
		Now: a.now, NewID: a.newID, Log: a.log,
	}
}

// BureauAccess is how every area reaches the bureau with an integration's
// credentials; the password service's Recover settles a change left half
// done when the bureau refuses them.
func (a *App) BureauAccess() *credit.BureauAccess {
	return &credit.BureauAccess{
		Secrets: a.secrets, Consultation: a.bureau, Registry: a.bureau, Accounts: a.bureau,
		Recovery: a.Passwords(), Log: a.log,
	}
}
