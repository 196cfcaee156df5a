package main

import "creditanalysis/infra/samenv"

// writeSAMEnv writes what the functions need under `sam local --env-vars`:
// the stack's environment, the signing key `make token` uses, and an
// in-process billing run.
func writeSAMEnv(path string, areas []string, env map[string]string, key []byte) error {
	return samenv.Write(path, areas, samenv.Env(env, key))
}
