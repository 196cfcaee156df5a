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
	// Branches are the branches the caller is kept to; nil is every branch
	// (a caller without the claim, or a scheduled run).
	Branches Branches
}

// Branches limits what a caller sees and acts on to some branches. Nil is
// every branch; an empty, non-nil list is none.
type Branches []string

// All reports whether b is every branch.
func (b Branches) All() bool { return b == nil }

// Allows reports whether b holds branch.
func (b Branches) Allows(branch string) bool { return b == nil || slices.Contains(b, branch) }

// BranchesOf returns the branches the caller in ctx is kept to: nil (every
// branch) without an actor.
func BranchesOf(ctx context.Context) Branches {
	a, _ := ActorFrom(ctx)
	return a.Branches
}

// CodeBranchNotAllowed: the caller is kept to other branches.
const CodeBranchNotAllowed = "branch_not_allowed"

// ErrBranchNotAllowed refuses acting on a branch the caller is not kept to.
func ErrBranchNotAllowed(branch string) *Error {
	return Errorf(KindForbidden, CodeBranchNotAllowed, "Você não tem acesso à filial %s.", branch).
		WithDetails(map[string]any{"branchId": branch})
}

// AllowBranch is nil when the caller in ctx may act on branch, and
// branch_not_allowed (403) otherwise.
func AllowBranch(ctx context.Context, branch string) error {
	if BranchesOf(ctx).Allows(branch) {
		return nil
	}
	return ErrBranchNotAllowed(branch)
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

// seeBranch is nil when the caller in ctx may see branch's records, and
// not_found for what otherwise: a record of another branch does not exist
// for the caller.
func seeBranch(ctx context.Context, branch, what string) error {
	if BranchesOf(ctx).Allows(branch) {
		return nil
	}
	return NotFound(what)
}
