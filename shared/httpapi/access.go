package httpapi

import "creditanalysis/shared/credit"

// Public marks a route that needs no token.
var Public = []credit.Role{}

var (
	anyRole   = []credit.Role{credit.RoleAdmin, credit.RoleAnalyst, credit.RoleCollector, credit.RoleViewer}
	adminOnly = []credit.Role{credit.RoleAdmin}
)

// Access is the role matrix: for every route ("METHOD /path" exactly as
// registered), the roles that may call it. It is the only place where
// authorization is decided; a route missing here cannot be registered.
//
//   - admin: everything
//   - analyst: consultations and parties
//   - collector: negativations, parties and invoices
//   - viewer: read-only, without report PDFs
var Access = map[string][]credit.Role{
	"GET /health": Public,

	"GET /parameters": anyRole,
	"PUT /parameters": adminOnly,
}

// Allowed reports whether an actor may call the route; public routes allow
// everyone.
func Allowed(route string, a credit.Actor) bool {
	roles := Access[route]
	if len(roles) == 0 {
		return true
	}
	for _, r := range roles {
		if a.Has(r) {
			return true
		}
	}
	return false
}

// IsPublic reports whether route needs no token.
func IsPublic(route string) bool {
	roles, ok := Access[route]
	return ok && len(roles) == 0
}
