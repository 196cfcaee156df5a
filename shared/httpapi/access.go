package httpapi

import (
	"slices"

	"creditanalysis/shared/credit"
)

// Public marks a route that needs no token.
var Public = []credit.Role{}

var (
	admin     = credit.RoleAdmin
	analyst   = credit.RoleAnalyst
	collector = credit.RoleCollector
	viewer    = credit.RoleViewer
)

func roles(r ...credit.Role) []credit.Role { return r }

// Access is the role matrix: for every route ("METHOD /path" exactly as
// registered), the roles that may call it. It is the only place where
// authorization is decided; a route missing here cannot be registered.
//
//   - admin: everything
//   - analyst: consultations and parties
//   - collector: negativations, parties and invoices
//   - viewer: read-only, without credit reports: consultations are shown
//     without their report, PDF or the overview's name and score
//     (ReportReaders)
var Access = map[string][]credit.Role{
	"GET /health": Public,

	"GET /parameters": roles(admin, analyst, collector, viewer),
	"PUT /parameters": roles(admin),

	"POST /integrations":                            roles(admin),
	"GET /integrations":                             roles(admin, analyst, collector, viewer),
	"GET /integrations/{id}":                        roles(admin, analyst, collector, viewer),
	"PUT /integrations/{id}":                        roles(admin),
	"PATCH /integrations/{id}":                      roles(admin),
	"DELETE /integrations/{id}":                     roles(admin),
	"GET /branches/{branchId}/integration":          roles(admin, analyst, collector, viewer),
	"GET /integrations/{id}/plans":                  roles(admin, analyst, collector, viewer),
	"GET /integrations/{id}/restriction-codes":      roles(admin, analyst, collector, viewer),
	"GET /integrations/{id}/removal-codes":          roles(admin, analyst, collector, viewer),
	"POST /integrations/{id}/connection-test":       roles(admin),
	"POST /integrations/{id}/consultation-password": roles(admin),
	"POST /integrations/{id}/pefin-password":        roles(admin),
	"GET /integrations/{id}/password-changes":       roles(admin),

	"PUT /parties/{kind}/{id}":                         roles(admin, analyst, collector),
	"GET /parties/{kind}/{id}":                         roles(admin, analyst, collector, viewer),
	"PUT /parties/customers/{id}/invoices/{invoiceId}": roles(admin, collector),
	"GET /parties/customers/{id}/invoices":             roles(admin, collector, viewer),
	"GET /parties/{kind}/{id}/consultations":           roles(admin, analyst, viewer),
	"POST /parties/{kind}/{id}/erasure":                roles(admin),
	"GET /parties/customers/{id}/negativations":        roles(admin, collector, viewer),

	"POST /consultations":         roles(admin, analyst),
	"GET /consultations":          roles(admin, analyst, viewer),
	"GET /consultations/{id}":     roles(admin, analyst, viewer),
	"GET /consultations/{id}/pdf": ReportReaders,

	"POST /negativations":                 roles(admin, collector),
	"GET /negativations":                  roles(admin, collector, viewer),
	"GET /negativations/{id}":             roles(admin, collector, viewer),
	"POST /negativations/{id}/removal":    roles(admin, collector),
	"POST /negativations/sync":            roles(admin),
	"GET /negativations/pending-removals": roles(admin, collector, viewer),

	"GET /billing-rule/runs":      roles(admin, collector, viewer),
	"GET /billing-rule/runs/{id}": roles(admin, collector, viewer),
	"POST /billing-rule/runs":     roles(admin),

	"GET /audit": roles(admin),
}

// ReportReaders may read a consultation's credit report: its body, its PDF
// and the name and score of its overview. Other roles that read
// consultations see the record without them.
var ReportReaders = roles(admin, analyst)

// ReadsReports reports whether the actor may read credit reports.
func ReadsReports(a credit.Actor) bool { return hasAny(a, ReportReaders) }

// Allowed reports whether an actor may call the route; public routes allow
// everyone.
func Allowed(route string, a credit.Actor) bool {
	rs, ok := Access[route]
	if !ok {
		return false
	}
	return len(rs) == 0 || hasAny(a, rs)
}

// hasAny reports whether the actor holds one of rs.
func hasAny(a credit.Actor, rs []credit.Role) bool {
	return slices.ContainsFunc(rs, a.Has)
}

// IsPublic reports whether route needs no token.
func IsPublic(route string) bool {
	rs, ok := Access[route]
	return ok && len(rs) == 0
}
