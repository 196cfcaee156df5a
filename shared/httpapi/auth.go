package httpapi

import (
	"context"
	"encoding/json"
	"strings"

	"creditanalysis/shared/credit"

	"github.com/awslabs/aws-lambda-go-api-proxy/core"
)

// DefaultRolesClaim is where Cognito puts a user's groups.
const DefaultRolesClaim = "cognito:groups"

// ActorFromGateway reads the caller from the claims the API Gateway JWT
// authorizer validated (requestContext.authorizer.jwt.claims). ok is false
// when the request carries no validated claims.
func ActorFromGateway(ctx context.Context, rolesClaim string) (credit.Actor, bool) {
	gw, ok := core.GetAPIGatewayV2ContextFromContext(ctx)
	if !ok || gw.Authorizer == nil || gw.Authorizer.JWT == nil {
		return credit.Actor{}, false
	}
	return actorFromClaims(gw.Authorizer.JWT.Claims, rolesClaim)
}

// actorFromClaims reads the caller from claims flattened as API Gateway
// hands them over.
func actorFromClaims(claims map[string]string, rolesClaim string) (credit.Actor, bool) {
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
	return credit.Actor{Subject: sub, Name: name, Roles: ParseRoles(claims[rolesClaim])}, true
}

// ParseRoles reads a roles claim as API Gateway hands it over. HTTP APIs
// flatten array claims to "[a b]"; a JSON array or a comma- or
// space-separated list is accepted too. Unknown roles are dropped.
func ParseRoles(v string) []credit.Role {
	v = strings.TrimSpace(v)
	var parts []string
	if strings.HasPrefix(v, "[") && json.Unmarshal([]byte(v), &parts) == nil {
		// JSON array
	} else {
		v = strings.Trim(v, "[]")
		parts = strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' })
	}
	var roles []credit.Role
	for _, p := range parts {
		r := credit.Role(strings.ToLower(strings.TrimSpace(p)))
		for _, known := range credit.Roles {
			if r == known {
				roles = append(roles, r)
			}
		}
	}
	return roles
}
