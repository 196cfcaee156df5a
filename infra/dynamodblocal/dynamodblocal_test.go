package dynamodblocal

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"creditanalysis/infra/checkout"
	"creditanalysis/infra/localaws"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTailKeepsTheLastLines(t *testing.T) {
	tests := []struct {
		name   string
		writes []string
		want   string
	}{
		{"nothing", nil, "(no output)"},
		{"one line", []string{"hello\n"}, "  hello"},
		{"split across writes", []string{"hel", "lo\nwor", "ld\n"}, "  hello\n  world"},
		{"unfinished last line", []string{"a\nb"}, "  a\n  b"},
		{"only the last three", []string{"1\n2\n3\n4\n5\n"}, "  3\n  4\n  5"},
		{"crlf", []string{"a\r\nb\r\n"}, "  a\n  b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tl := newTail(3)
			for _, w := range tt.writes {
				n, err := tl.Write([]byte(w))
				require.NoError(t, err)
				require.Equal(t, len(w), n)
			}
			assert.Equal(t, tt.want, tl.String())
		})
	}
}

// A process that dies at start-up is reported with its own words, not a
// guess at the cause.
func TestStartQuotesTheProcessOutputWhenItExits(t *testing.T) {
	_, err := Start(context.Background(), Options{JarDir: t.TempDir()})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "exited during start-up")
	assert.Contains(t, err.Error(), "DynamoDBLocal.jar", "the error quotes java's own complaint about the missing jar")
}

// A relative data directory is the caller's, although Java runs in the jar's
// folder.
func TestStartWithRelativeDataDir(t *testing.T) {
	root, err := checkout.Root()
	require.NoError(t, err)
	jar, err := Ensure(context.Background(), filepath.Join(root, ".cache"))
	require.NoError(t, err)

	t.Chdir(t.TempDir())
	ctx := context.Background()
	s, err := Start(ctx, Options{JarDir: jar, DataDir: filepath.Join("data", "dynamodb")})
	require.NoError(t, err)
	defer s.Stop()
	// The database file appears with the first table.
	_, err = localaws.DynamoDB(s.Endpoint).CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("relative"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	require.NoError(t, err)
	s.Stop()

	entries, err := os.ReadDir(filepath.Join("data", "dynamodb"))
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	assert.True(t, strings.Contains(strings.Join(names, " "), "shared-local-instance.db"),
		"the database file is under the caller's relative folder, got %v", names)
}

// A port Start picked itself and another process took before Java bound it
// costs a second start on another port, not the caller's run.
func TestStartTakesAnotherPortWhenItsOwnIsTaken(t *testing.T) {
	root, err := checkout.Root()
	require.NoError(t, err)
	jar, err := Ensure(context.Background(), filepath.Join(root, ".cache"))
	require.NoError(t, err)
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer taken.Close()
	takenPort := taken.Addr().(*net.TCPAddr).Port

	picks := 0
	freePort = func() (int, error) {
		picks++
		if picks == 1 {
			return takenPort, nil
		}
		return FreePort()
	}
	t.Cleanup(func() { freePort = FreePort })

	ctx := context.Background()
	s, err := Start(ctx, Options{JarDir: jar})
	require.NoError(t, err)
	defer s.Stop()
	assert.Equal(t, 2, picks, "one more start, on another port")
	assert.NotEqual(t, fmt.Sprintf("http://127.0.0.1:%d", takenPort), s.Endpoint)
	_, err = localaws.DynamoDB(s.Endpoint).ListTables(ctx, &dynamodb.ListTablesInput{})
	require.NoError(t, err)

	// A port the caller chose is the caller's: no other is tried.
	_, err = Start(ctx, Options{JarDir: jar, Port: takenPort})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "BindException")
}
