package main

import (
	"fmt"
	"net"
	"strconv"

	"creditanalysis/infra/stack"
)

// standIns names each stand-in's port variable, in the order of their
// default ports right above the API's.
var standIns = []struct {
	env  string
	port func(*stack.Ports) *int
}{
	{"DYNAMODB_PORT", func(p *stack.Ports) *int { return &p.DynamoDB }},
	{"S3_PORT", func(p *stack.Ports) *int { return &p.S3 }},
	{"SECRETSMANAGER_PORT", func(p *stack.Ports) *int { return &p.SecretsManager }},
	{"CONNECTSA_PORT", func(p *stack.Ports) *int { return &p.ConnectSA }},
	{"EVENTBRIDGE_PORT", func(p *stack.Ports) *int { return &p.EventBridge }},
}

// standInPorts reads the stand-ins' ports, by default right above the API's
// (PORT+1 upwards), or any free port when the API's is 0.
func standInPorts(api int) (stack.Ports, error) {
	var p stack.Ports
	for i, s := range standIns {
		def := 0
		if api != 0 {
			def = api + 1 + i
		}
		n, err := portEnv(s.env, def)
		if err != nil {
			return p, err
		}
		*s.port(&p) = n
	}
	return p, nil
}

// checkFree fails when a stand-in's fixed port is taken, naming the
// variable that moves it, before anything is started.
func checkFree(p stack.Ports) error {
	for _, s := range standIns {
		n := *s.port(&p)
		if n == 0 {
			continue
		}
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(n)))
		if err != nil {
			return fmt.Errorf("%s %d is taken: choose another PORT (the stand-ins take the ports right above it) or set %s=0 for any free port: %w", s.env, n, s.env, err)
		}
		l.Close()
	}
	return nil
}
