// Package credittest holds the contract suites of the domain's ports: each
// suite runs against every adapter of its port (the in-memory fake and the
// real one), so that they cannot disagree.
package credittest
