// Package localaws builds AWS SDK configuration for the local stand-ins
// (DynamoDB Local, the S3 and Secrets Manager stand-ins): fixed region,
// static dummy credentials, explicit endpoints.
package localaws

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// Region is the region every local client uses.
const Region = "us-east-1"

// Config is an aws.Config with dummy credentials; nothing it signs leaves
// this machine.
func Config() aws.Config {
	return aws.Config{
		Region:      Region,
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""),
	}
}

// DynamoDB returns a client for the DynamoDB Local at endpoint.
func DynamoDB(endpoint string) *dynamodb.Client {
	return dynamodb.NewFromConfig(Config(), func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(endpoint) })
}
