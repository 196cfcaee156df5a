package stack_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"creditanalysis/infra/stack"
	"creditanalysis/shared/credit"
	"creditanalysis/shared/dynamo"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// javaChildren lists this process's children running DynamoDB Local.
func javaChildren(t *testing.T) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	require.NoError(t, err)
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// the fields after the parenthesised command: state ppid ...
		fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(fields) < 2 || fields[1] != strconv.Itoa(os.Getpid()) {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if bytes.Contains(cmdline, []byte("DynamoDBLocal.jar")) {
			pids = append(pids, pid)
		}
	}
	return pids
}

func TestPersistentStackSurvivesARestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	report := []byte("%PDF-1.7 relatório")

	st, err := stack.Start(ctx, stack.Options{DataDir: dir})
	require.NoError(t, err)
	t.Cleanup(st.Stop)
	assert.Len(t, javaChildren(t), 1)

	store := dynamo.New(st.Clients().DynamoDB, stack.Table)
	want := credit.Parameters{CreditAnalysisEnabled: true, RepeatConsultationIntervalDays: 15}
	require.NoError(t, store.PutParameters(ctx, want))
	_, err = st.S3().PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(stack.ReportBucket), Key: aws.String("reports/2026/c-1.pdf"),
		Body: bytes.NewReader(report), ContentType: aws.String("application/pdf"),
	})
	require.NoError(t, err)

	_, err = st.SecretsManager().CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name: aws.String(stack.SecretPrefix + "int-1/consultation"), SecretString: aws.String("Abc1234#"),
	})
	require.NoError(t, err)

	_, err = stack.Start(ctx, stack.Options{DataDir: dir})
	assert.ErrorContains(t, err, "in use", "a second stack on the same directory is refused")

	st.Stop()
	assert.Empty(t, javaChildren(t), "no Java process survives Stop")
	assert.DirExists(t, filepath.Join(dir, "dynamodb"))
	assert.DirExists(t, filepath.Join(dir, "s3"))
	assert.DirExists(t, filepath.Join(dir, "secretsmanager"))

	again, err := stack.Start(ctx, stack.Options{DataDir: dir})
	require.NoError(t, err)
	t.Cleanup(again.Stop)

	got, err := dynamo.New(again.Clients().DynamoDB, stack.Table).GetParameters(ctx)
	require.NoError(t, err)
	assert.Equal(t, want, got)

	obj, err := again.S3().GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(stack.ReportBucket), Key: aws.String("reports/2026/c-1.pdf")})
	require.NoError(t, err)
	body, err := io.ReadAll(obj.Body)
	require.NoError(t, err)
	assert.Equal(t, report, body)
	assert.Equal(t, "application/pdf", aws.ToString(obj.ContentType))

	secret, err := again.SecretsManager().GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(stack.SecretPrefix + "int-1/consultation")})
	require.NoError(t, err)
	assert.Equal(t, "Abc1234#", aws.ToString(secret.SecretString))
}

func TestInMemoryStack(t *testing.T) {
	ctx := context.Background()
	st, err := stack.Start(ctx, stack.Options{InMemory: true})
	require.NoError(t, err)
	defer st.Stop()

	env := st.Env()
	for _, k := range []string{
		"TABLE_NAME", "REPORT_BUCKET", "SECRET_PREFIX", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
		"AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_SECRETS_MANAGER", "S3_FORCE_PATH_STYLE",
		"CONNECTSA_HOMOLOGATION_URL", "CONNECTSA_PRODUCTION_URL",
	} {
		assert.NotEmpty(t, env[k], k)
	}
	assert.Equal(t, stack.Table, env["TABLE_NAME"])
	assert.Equal(t, st.DynamoDBEndpoint, env["AWS_ENDPOINT_URL_DYNAMODB"])
	assert.Equal(t, st.S3Endpoint, env["AWS_ENDPOINT_URL_S3"])
	assert.Equal(t, st.SecretsManagerEndpoint, env["AWS_ENDPOINT_URL_SECRETS_MANAGER"])
	assert.Equal(t, st.ConnectSAEndpoint, env["CONNECTSA_HOMOLOGATION_URL"])

	// The sandbox answers on its endpoint.
	health, err := http.Get(st.ConnectSAEndpoint + "/health")
	require.NoError(t, err)
	health.Body.Close()
	assert.Equal(t, 200, health.StatusCode)
	for k, v := range env {
		if strings.HasPrefix(k, "AWS_ENDPOINT_URL_") || strings.HasPrefix(k, "CONNECTSA_") {
			assert.True(t, strings.HasPrefix(v, "http://127.0.0.1:"), "%s=%s is on loopback", k, v)
		}
	}

	// The table exists with its indexes, and the bucket is there.
	got, err := dynamo.New(st.Clients().DynamoDB, stack.Table).GetParameters(ctx)
	require.NoError(t, err)
	assert.Equal(t, credit.Parameters{}, got)
	clients := st.Clients()
	require.NotNil(t, clients.SecretsManager)
	require.NotNil(t, clients.HTTP)
	_, err = clients.S3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(stack.ReportBucket)})
	assert.NoError(t, err)

	// Presigned URLs are path-style on the stand-in and serve the object.
	_, err = st.S3().PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(stack.ReportBucket), Key: aws.String("x.pdf"), Body: strings.NewReader("pdf")})
	require.NoError(t, err)
	get, err := s3.NewPresignClient(st.S3()).PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(stack.ReportBucket), Key: aws.String("x.pdf")})
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(get.URL, st.S3Endpoint+"/"+stack.ReportBucket+"/x.pdf?"), get.URL)
	resp, err := http.Get(get.URL)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "pdf", string(body))
}

func TestStartNeedsADataDir(t *testing.T) {
	_, err := stack.Start(context.Background(), stack.Options{})
	assert.Error(t, err)
}

// A DynamoDB Local that ends while the stack is up is reported, once; one
// stopped with the stack is not.
func TestLostReportsADynamoDBLocalThatEnds(t *testing.T) {
	ctx := context.Background()
	st, err := stack.Start(ctx, stack.Options{InMemory: true})
	require.NoError(t, err)
	t.Cleanup(st.Stop)
	java := javaChildren(t)
	require.Len(t, java, 1)
	require.NoError(t, syscall.Kill(java[0], syscall.SIGKILL))
	select {
	case err := <-st.Lost():
		assert.ErrorContains(t, err, "DynamoDB Local ended while in use")
		assert.ErrorContains(t, err, "killed")
	case <-time.After(30 * time.Second):
		t.Fatal("the end of DynamoDB Local was not reported")
	}

	quiet, err := stack.Start(ctx, stack.Options{InMemory: true})
	require.NoError(t, err)
	quiet.Stop()
	select {
	case err := <-quiet.Lost():
		t.Fatalf("a stopped stack reported %v", err)
	case <-time.After(time.Second):
	}
}
