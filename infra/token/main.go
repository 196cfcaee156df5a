// Command token prints a bearer token for the local runner (`make token
// ROLE=admin`): signed with the key in LOCAL_DATA_DIR (default .local/), for
// a made-up user holding one role, kept to some branches with `BRANCHES=7,9`.
// The token is the last line of output, so
// scripts can take it with `tail -n1`.
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
)

func main() {
	role := flag.String("role", "admin", "role: admin, analyst, collector or viewer")
	ttl := flag.Duration("ttl", 12*time.Hour, "validity")
	branches := flag.String("branches", "", "comma-separated branch ids the user is kept to; empty: every branch")
	flag.Parse()

	var kept []string
	for _, b := range strings.Split(*branches, ",") {
		if b = strings.TrimSpace(b); b != "" {
			kept = append(kept, b)
		}
	}
	if err := run(credit.Role(*role), kept, *ttl); err != nil {
		fmt.Fprintln(os.Stderr, "token:", err)
		os.Exit(1)
	}
}

func run(role credit.Role, branches []string, ttl time.Duration) error {
	if !slices.Contains(credit.Roles, role) {
		return fmt.Errorf("unknown role %q (roles: %v)", role, credit.Roles)
	}
	dataDir := os.Getenv("LOCAL_DATA_DIR")
	if dataDir == "" {
		dataDir = ".local"
	}
	key, err := localauth.LoadKey(dataDir)
	if err != nil {
		return err
	}
	tok, err := localauth.DevTokenKept(key, role, branches, ttl)
	if err != nil {
		return err
	}
	port := os.Getenv("PORT")
	if port == "" {
		port = "3000"
	}
	sub := "local-" + string(role)
	if branches != nil {
		sub += "-" + strings.Join(branches, "-")
		fmt.Fprintf(os.Stderr, "# kept to branches %s\n", strings.Join(branches, ","))
	}
	fmt.Fprintf(os.Stderr, "# %s token for %s, valid %s; use: curl -H \"Authorization: Bearer $TOKEN\" http://127.0.0.1:%s/parameters\n", role, sub, ttl, port)
	fmt.Println(tok)
	return nil
}
