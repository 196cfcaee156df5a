package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"unicode"

	"creditanalysis/shared/credit"

	"github.com/awslabs/aws-lambda-go-api-proxy/core"
)

// DefaultRolesClaim is where Cognito puts a user's groups.
const DefaultRolesClaim = "cognito:groups"

// DefaultRoleGroupsText is ROLE_GROUPS when it is not set: each role is
// granted by one group named after it.
const DefaultRoleGroupsText = "admin=credit-admin,analyst=credit-analyst,collector=credit-collector,viewer=credit-viewer"

// RoleGroups says which identity-provider group grants which role. A group
// grants its role only when the caller's groups claim names it exactly,
// case included; any other group grants nothing.
type RoleGroups map[string]credit.Role

// DefaultRoleGroups is DefaultRoleGroupsText parsed.
var DefaultRoleGroups = func() RoleGroups {
	g, err := parseRoleGroups(DefaultRoleGroupsText)
	if err != nil {
		panic(err)
	}
	return g
}()

// ParseRoleGroups reads ROLE_GROUPS: comma-separated role=group pairs, a
// role may be granted by several groups, a group grants one role. Empty is
// DefaultRoleGroups. A group name holds no whitespace, comma, quote or
// bracket or "=": API Gateway flattens a groups array to "[a b]", and only names
// without those characters read back unambiguously from it (Cognito's group
// names hold no whitespace either).
func ParseRoleGroups(v string) (RoleGroups, error) {
	if strings.TrimSpace(v) == "" {
		return DefaultRoleGroups, nil
	}
	return parseRoleGroups(v)
}

func parseRoleGroups(v string) (RoleGroups, error) {
	g := RoleGroups{}
	for _, pair := range strings.Split(v, ",") {
		role, group, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if !ok {
			return nil, fmt.Errorf("ROLE_GROUPS: %q is not role=group", pair)
		}
		r := credit.Role(role)
		if !slices.Contains(credit.Roles, r) {
			return nil, fmt.Errorf("ROLE_GROUPS: unknown role %q (roles: %v)", role, credit.Roles)
		}
		if group == "" || strings.ContainsFunc(group, func(c rune) bool {
			return unicode.IsSpace(c) || strings.ContainsRune(`,"[]=`, c)
		}) {
			return nil, fmt.Errorf("ROLE_GROUPS: group %q of role %s must be a name without spaces, commas, quotes, brackets or \"=\"", group, role)
		}
		if prev, dup := g[group]; dup {
			return nil, fmt.Errorf("ROLE_GROUPS: group %q is given to both %s and %s", group, prev, r)
		}
		g[group] = r
	}
	return g, nil
}

// GroupOf is the first group (by name) that grants role, "" when none does.
func (g RoleGroups) GroupOf(role credit.Role) string {
	var names []string
	for name, r := range g {
		if r == role {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		return ""
	}
	return names[0]
}

// Roles are the roles the groups claim grants, in credit.Roles order.
func (g RoleGroups) Roles(claim string) []credit.Role {
	if g == nil {
		g = DefaultRoleGroups
	}
	granted := map[credit.Role]bool{}
	for _, name := range ParseGroups(claim) {
		if r, ok := g[name]; ok {
			granted[r] = true
		}
	}
	var roles []credit.Role
	for _, r := range credit.Roles {
		if granted[r] {
			roles = append(roles, r)
		}
	}
	return roles
}

// ParseGroups reads a groups claim as API Gateway hands it over: a JSON
// array (["a","b"]), the flattened form of an array ("[a b]", split on
// spaces, which group names do not hold), or one plain group name. Names
// are kept exactly: nothing is lower-cased, and a comma is part of a name.
func ParseGroups(v string) []string {
	if strings.HasPrefix(v, "[") && strings.HasSuffix(v, "]") {
		var parts []string
		if json.Unmarshal([]byte(v), &parts) == nil {
			return parts
		}
		return strings.Fields(v[1 : len(v)-1])
	}
	if v == "" {
		return nil
	}
	return []string{v}
}

// ActorFromGateway reads the caller from the claims the API Gateway JWT
// authorizer validated (requestContext.authorizer.jwt.claims). ok is false
// when the request carries no validated claims.
func ActorFromGateway(ctx context.Context, rolesClaim string, groups RoleGroups) (credit.Actor, bool) {
	gw, ok := core.GetAPIGatewayV2ContextFromContext(ctx)
	if !ok || gw.Authorizer == nil || gw.Authorizer.JWT == nil {
		return credit.Actor{}, false
	}
	return actorFromClaims(gw.Authorizer.JWT.Claims, rolesClaim, groups)
}

// actorFromClaims reads the caller from claims flattened as API Gateway
// hands them over.
func actorFromClaims(claims map[string]string, rolesClaim string, groups RoleGroups) (credit.Actor, bool) {
	sub := claims["sub"]
	if sub == "" {
		return credit.Actor{}, false
	}
	name := claims["name"]
	if name == "" {
		name = claims["cognito:username"]
	}
	if name == "" {
		name = claims["email"]
	}
	if rolesClaim == "" {
		rolesClaim = DefaultRolesClaim
	}
	return credit.Actor{Subject: sub, Name: name, Roles: groups.Roles(claims[rolesClaim])}, true
}
