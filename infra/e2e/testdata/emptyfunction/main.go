// Command emptyfunction is the cold-start benchmark's floor: a Lambda
// function that links aws-lambda-go and nothing else, and answers every
// event with an empty object. Its INIT is what the emulator and a Go
// process cost on this machine before any of the service's code.
package main

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(context.Context, json.RawMessage) (struct{}, error) { return struct{}{}, nil })
}
