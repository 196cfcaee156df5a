// Package e2e holds the end-to-end tests: each function's bootstrap, built
// for this machine, run under AWS's Lambda Runtime Interface Emulator (what
// `sam local` runs inside its container) on the local stack and fed every
// events/ fixture; and a smoke test of the local runner behind `make run`.
// Answers are checked against openapi.yaml.
package e2e
