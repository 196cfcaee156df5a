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

// Passwords is the password-change service. Its Recover is for any area
// whose stored credentials the bureau refuses: it settles a change left half
// done, after which SecretStore.Reload reads the password that holds.
func (a *App) Passwords() *credit.PasswordService {
	return &credit.PasswordService{
		Integrations: a.store, Store: a.store, Secrets: a.secrets, Bureau: a.bureau,
		Now: a.now, NewID: a.newID, Log: a.log,
	}
}
