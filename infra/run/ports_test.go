package main

import (
	"net"
	"reflect"
	"strconv"
	"testing"

	"creditanalysis/infra/stack"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStandInPorts(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		api  int
		want stack.Ports
	}{
		{"right above the API", nil, 3000, stack.Ports{DynamoDB: 3001, S3: 3002, SecretsManager: 3003, ConnectSA: 3004, EventBridge: 3005}},
		{"overridden", map[string]string{"DYNAMODB_PORT": "8000", "S3_PORT": "0", "EVENTBRIDGE_PORT": "4010"}, 3000,
			stack.Ports{DynamoDB: 8000, S3: 0, SecretsManager: 3003, ConnectSA: 3004, EventBridge: 4010}},
		{"any free port with PORT=0", nil, 0, stack.Ports{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, s := range standIns {
				t.Setenv(s.env, tt.env[s.env])
			}
			p, err := standInPorts(tt.api)
			require.NoError(t, err)
			assert.Equal(t, tt.want, p)
		})
	}
	t.Setenv("S3_PORT", "http")
	_, err := standInPorts(3000)
	assert.Error(t, err)
}

// TestEveryStandInHasAPortVariable: a stand-in added to the stack without
// its variable would take a port nobody can move.
func TestEveryStandInHasAPortVariable(t *testing.T) {
	assert.Equal(t, reflect.TypeFor[stack.Ports]().NumField(), len(standIns))
	seen := map[*int]bool{}
	var p stack.Ports
	for _, s := range standIns {
		seen[s.port(&p)] = true
	}
	assert.Len(t, seen, len(standIns), "each variable sets its own stand-in")
}

// TestATakenStandInPortIsNamed: a busy port fails before anything starts,
// naming the variable that moves it.
func TestATakenStandInPortIsNamed(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	taken := busy.Addr().(*net.TCPAddr).Port

	assert.NoError(t, checkFree(stack.Ports{}), "any free port")
	err = checkFree(stack.Ports{EventBridge: taken})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "EVENTBRIDGE_PORT "+strconv.Itoa(taken)+" is taken")
}
