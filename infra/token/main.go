// Command token prints a bearer token for the local runner: signed with the
// key in LOCAL_DATA_DIR (default .local/), for a made-up user. `make token
// ROLE=admin` gives the user the group that grants the role (from
// ROLE_GROUPS, the defaults when unset: admin -> credit-admin); `make token
// GROUPS="g1 g2"` puts exactly those names in the groups claim, to try what
// other groups grant; `BRANCHES=7,9` keeps the user to those branches. The
// token is the last line of output, so scripts can take it with `tail -n1`.
package main

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"creditanalysis/infra/localauth"
	"creditanalysis/shared/credit"
	"creditanalysis/shared/httpapi"
)

func main() {
	role := flag.String("role", "admin", "role: admin, analyst, collector or viewer")
	groups := flag.String("groups", "", "space-separated groups claim, instead of -role")
	branches := flag.String("branches", "", "comma-separated branch ids the user is kept to; empty: every branch")
	ttl := flag.Duration("ttl", 12*time.Hour, "validity")
	flag.Parse()

	var kept []string
	for _, b := range strings.Split(*branches, ",") {
		if b = strings.TrimSpace(b); b != "" {
			kept = append(kept, b)
		}
	}
	if err := run(credit.Role(*role), *groups, kept, *ttl); err != nil {
		fmt.Fprintln(os.Stderr, "token:", err)
		os.Exit(1)
	}
}

func run(role credit.Role, groups string, branches []string, ttl time.Duration) error {
	roleGroups, err := httpapi.ParseRoleGroups(os.Getenv("ROLE_GROUPS"))
	if err != nil {
		return err
	}
	claim := strings.Fields(groups)
	sub, name := "local-groups", "Groups Local"
	if len(claim) == 0 {
		if !slices.Contains(credit.Roles, role) {
			return fmt.Errorf("unknown role %q (roles: %v)", role, credit.Roles)
		}
		group := roleGroups.GroupOf(role)
		if group == "" {
			return fmt.Errorf("ROLE_GROUPS names no group for role %s", role)
		}
		claim, sub, name = []string{group}, localauth.DevSubject(role, branches), localauth.DevName(role)
	} else if branches != nil {
		sub += "-" + strings.Join(branches, "-")
	}
	dataDir := os.Getenv("LOCAL_DATA_DIR")
	if dataDir == "" {
		dataDir = ".local"
	}
	key, err := localauth.LoadKey(dataDir)
	if err != nil {
		return err
	}
	tok, err := localauth.MintGroupsKept(key, sub, name, claim, branches, ttl)
	if err != nil {
		return err
	}
	port := os.Getenv("PORT")
	if port == "" {
		port = "3000"
	}
	if branches != nil {
		fmt.Fprintf(os.Stderr, "# kept to branches %s\n", strings.Join(branches, ","))
	}
	fmt.Fprintf(os.Stderr, "# token for %s, groups %q (roles %v), valid %s; use: curl -H \"Authorization: Bearer $TOKEN\" http://127.0.0.1:%s/parameters\n",
		sub, claim, roleGroups.Roles("["+strings.Join(claim, " ")+"]"), ttl, port)
	fmt.Println(tok)
	return nil
}
