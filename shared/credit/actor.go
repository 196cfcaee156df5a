package credit

import (
	"context"
	"slices"
)

// Role is what a caller may do; the route-to-role matrix lives in the HTTP
// layer, in one table.
type Role string

const (
	RoleAdmin     Role = "admin"
	RoleAnalyst   Role = "analyst"
	RoleCollector Role = "collector"
	RoleViewer    Role = "viewer"
)

// Roles lists every known role.
var Roles = []Role{RoleAdmin, RoleAnalyst, RoleCollector, RoleViewer}

// Actor is the authenticated caller (or a scheduled run) on whose behalf an
// operation runs; its identity is recorded on everything it changes.
type Actor struct {
	Subject string
	Name    string
	Roles   []Role
}

// Has reports whether the actor holds role.
func (a Actor) Has(role Role) bool { return slices.Contains(a.Roles, role) }

type actorKey struct{}

// WithActor returns ctx carrying the actor.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor in ctx, if any.
func ActorFrom(ctx context.Context) (Actor, bool) {
	a, ok := ctx.Value(actorKey{}).(Actor)
	return a, ok
}
