package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestRunRefusesBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-error-rate", "1.5"},
		{"-timeout-rate", "-0.1"},
		{"-fault-operations", "consulta,nope"},
		{"-latency", "soon"},
		{"-addr", "not an address"},
	} {
		assert.Error(t, run(args), "%v", args)
	}
}
