package secretsmanagerlocal_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"creditanalysis/infra/localaws"
	"creditanalysis/infra/secretsmanagerlocal"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var ctx = context.Background()

// fakeClock is a settable clock, so that no test waits for real time.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func start(t *testing.T, dir string) (*secretsmanagerlocal.Server, *sm.Client) {
	t.Helper()
	srv, err := secretsmanagerlocal.New(dir)
	require.NoError(t, err)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return srv, secretsmanagerlocal.Client(hs.URL)
}

// token makes a ClientRequestToken of the length AWS requires.
func token(n int) *string { return aws.String(fmt.Sprintf("token-%030d", n)) }

func errorCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}

func stages(t *testing.T, c *sm.Client, id string) map[string][]string {
	t.Helper()
	d, err := c.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String(id)})
	require.NoError(t, err)
	for _, s := range d.VersionIdsToStages {
		sort.Strings(s)
	}
	return d.VersionIdsToStages
}

func value(t *testing.T, c *sm.Client, id, stage string) string {
	t.Helper()
	out, err := c.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String(id), VersionStage: aws.String(stage)})
	require.NoError(t, err)
	return aws.ToString(out.SecretString)
}

func TestCreateSecret(t *testing.T) {
	_, c := start(t, "")
	out, err := c.CreateSecret(ctx, &sm.CreateSecretInput{
		Name:               aws.String("creditanalysis/integrations/abc"),
		ClientRequestToken: token(1),
		SecretString:       aws.String(`{"a":"1"}`),
		KmsKeyId:           aws.String("alias/credit"),
		Description:        aws.String("bureau passwords"),
		Tags:               []types.Tag{{Key: aws.String("app"), Value: aws.String("creditanalysis")}},
	})
	require.NoError(t, err)
	assert.Regexp(t, regexp.MustCompile(`^arn:aws:secretsmanager:us-east-1:000000000000:secret:creditanalysis/integrations/abc-[A-Za-z0-9]{6}$`), aws.ToString(out.ARN))
	assert.Equal(t, "creditanalysis/integrations/abc", aws.ToString(out.Name))
	assert.Equal(t, aws.ToString(token(1)), aws.ToString(out.VersionId))

	for _, id := range []string{aws.ToString(out.ARN), "creditanalysis/integrations/abc"} {
		got, err := c.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String(id)})
		require.NoError(t, err)
		assert.Equal(t, `{"a":"1"}`, aws.ToString(got.SecretString))
		assert.Equal(t, []string{"AWSCURRENT"}, got.VersionStages)
		assert.Equal(t, out.ARN, got.ARN)
		assert.False(t, aws.ToTime(got.CreatedDate).IsZero())
	}

	d, err := c.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: out.ARN})
	require.NoError(t, err)
	assert.Equal(t, "alias/credit", aws.ToString(d.KmsKeyId))
	assert.Equal(t, "bureau passwords", aws.ToString(d.Description))
	assert.Equal(t, []types.Tag{{Key: aws.String("app"), Value: aws.String("creditanalysis")}}, d.Tags)
	assert.Equal(t, map[string][]string{aws.ToString(token(1)): {"AWSCURRENT"}}, d.VersionIdsToStages)
	assert.Nil(t, d.DeletedDate)

	t.Run("a retry with the same token and value is the same answer", func(t *testing.T) {
		again, err := c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("creditanalysis/integrations/abc"), ClientRequestToken: token(1), SecretString: aws.String(`{"a":"1"}`)})
		require.NoError(t, err)
		assert.Equal(t, out.ARN, again.ARN)
	})
	t.Run("a binary secret", func(t *testing.T) {
		_, err := c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("bin"), SecretBinary: []byte{0, 1, 2, 255}})
		require.NoError(t, err)
		got, err := c.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("bin")})
		require.NoError(t, err)
		assert.Equal(t, []byte{0, 1, 2, 255}, got.SecretBinary)
		assert.Nil(t, got.SecretString)
	})
}

func TestCreateSecretErrors(t *testing.T) {
	_, c := start(t, "")
	_, err := c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("taken"), SecretString: aws.String("v")})
	require.NoError(t, err)

	for _, tc := range []struct {
		name string
		in   sm.CreateSecretInput
		code string
	}{
		{"name taken", sm.CreateSecretInput{Name: aws.String("taken"), SecretString: aws.String("v")}, "ResourceExistsException"},
		{"name taken, same token other value", sm.CreateSecretInput{Name: aws.String("taken"), SecretString: aws.String("w")}, "ResourceExistsException"},
		{"bad name", sm.CreateSecretInput{Name: aws.String("a b"), SecretString: aws.String("v")}, "InvalidParameterException"},
		{"both values", sm.CreateSecretInput{Name: aws.String("both"), SecretString: aws.String("v"), SecretBinary: []byte("v")}, "InvalidParameterException"},
		{"short token", sm.CreateSecretInput{Name: aws.String("short"), SecretString: aws.String("v"), ClientRequestToken: aws.String("abc")}, "InvalidParameterException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.CreateSecret(ctx, &tc.in)
			require.Error(t, err)
			assert.Equal(t, tc.code, errorCode(err))
		})
	}

	var exists *types.ResourceExistsException
	_, err = c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("taken"), SecretString: aws.String("v")})
	require.ErrorAs(t, err, &exists, "the SDK maps the answer to its typed error")
	assert.Contains(t, exists.ErrorMessage(), "already exists")
}

func TestPutSecretValueStages(t *testing.T) {
	_, c := start(t, "")
	created, err := c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("s"), ClientRequestToken: token(1), SecretString: aws.String("one")})
	require.NoError(t, err)
	v1, v2, v3, v4 := aws.ToString(token(1)), aws.ToString(token(2)), aws.ToString(token(3)), aws.ToString(token(4))

	// A pending version beside the current one.
	put, err := c.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: created.ARN, ClientRequestToken: token(2), SecretString: aws.String("two"), VersionStages: []string{"AWSPENDING"}})
	require.NoError(t, err)
	assert.Equal(t, v2, aws.ToString(put.VersionId))
	assert.Equal(t, []string{"AWSPENDING"}, put.VersionStages)
	assert.Equal(t, map[string][]string{v1: {"AWSCURRENT"}, v2: {"AWSPENDING"}}, stages(t, c, "s"))
	assert.Equal(t, "one", value(t, c, "s", "AWSCURRENT"))
	assert.Equal(t, "two", value(t, c, "s", "AWSPENDING"))

	// The same request again changes nothing; the same token with another
	// value is refused.
	again, err := c.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String("s"), ClientRequestToken: token(2), SecretString: aws.String("two"), VersionStages: []string{"AWSPENDING"}})
	require.NoError(t, err)
	assert.Equal(t, v2, aws.ToString(again.VersionId))
	_, err = c.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String("s"), ClientRequestToken: token(2), SecretString: aws.String("other"), VersionStages: []string{"AWSPENDING"}})
	assert.Equal(t, "ResourceExistsException", errorCode(err))
	assert.Equal(t, "two", value(t, c, "s", "AWSPENDING"))

	// A second pending takes the label.
	_, err = c.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String("s"), ClientRequestToken: token(3), SecretString: aws.String("three"), VersionStages: []string{"AWSPENDING"}})
	require.NoError(t, err)
	assert.Equal(t, map[string][]string{v1: {"AWSCURRENT"}, v3: {"AWSPENDING"}}, stages(t, c, "s"))

	// Without VersionStages the new version becomes current and the old
	// current previous.
	put, err = c.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String("s"), ClientRequestToken: token(4), SecretString: aws.String("four")})
	require.NoError(t, err)
	assert.Equal(t, []string{"AWSCURRENT"}, put.VersionStages)
	assert.Equal(t, map[string][]string{v1: {"AWSPREVIOUS"}, v3: {"AWSPENDING"}, v4: {"AWSCURRENT"}}, stages(t, c, "s"))
	assert.Equal(t, "one", value(t, c, "s", "AWSPREVIOUS"))

	// The SDK fills in a token when none is given.
	put, err = c.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String("s"), SecretString: aws.String("five")})
	require.NoError(t, err)
	assert.Len(t, aws.ToString(put.VersionId), 36)
	assert.Equal(t, "five", value(t, c, "s", "AWSCURRENT"))
	assert.Equal(t, "four", value(t, c, "s", "AWSPREVIOUS"))

	for _, tc := range []struct {
		name string
		in   sm.PutSecretValueInput
		code string
	}{
		{"unknown secret", sm.PutSecretValueInput{SecretId: aws.String("nope"), SecretString: aws.String("x")}, "ResourceNotFoundException"},
		{"no value", sm.PutSecretValueInput{SecretId: aws.String("s")}, "InvalidParameterException"},
		{"short token", sm.PutSecretValueInput{SecretId: aws.String("s"), SecretString: aws.String("x"), ClientRequestToken: aws.String("change-1")}, "InvalidParameterException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.PutSecretValue(ctx, &tc.in)
			assert.Equal(t, tc.code, errorCode(err))
		})
	}
}

func TestUpdateSecretVersionStage(t *testing.T) {
	// Every case starts from v1 current, v2 previous, v3 pending.
	v1, v2, v3 := aws.ToString(token(1)), aws.ToString(token(2)), aws.ToString(token(3))
	setup := func(t *testing.T) *sm.Client {
		_, c := start(t, "")
		_, err := c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("s"), ClientRequestToken: token(2), SecretString: aws.String("two")})
		require.NoError(t, err)
		_, err = c.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String("s"), ClientRequestToken: token(1), SecretString: aws.String("one")})
		require.NoError(t, err)
		_, err = c.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String("s"), ClientRequestToken: token(3), SecretString: aws.String("three"), VersionStages: []string{"AWSPENDING"}})
		require.NoError(t, err)
		require.Equal(t, map[string][]string{v1: {"AWSCURRENT"}, v2: {"AWSPREVIOUS"}, v3: {"AWSPENDING"}}, stages(t, c, "s"))
		return c
	}
	for _, tc := range []struct {
		name           string
		stage, to, rem string
		code           string
		want           map[string][]string
	}{
		{name: "promote pending", stage: "AWSCURRENT", to: v3, rem: v1,
			want: map[string][]string{v1: {"AWSPREVIOUS"}, v3: {"AWSCURRENT", "AWSPENDING"}}},
		{name: "move current without naming its holder", stage: "AWSCURRENT", to: v3, code: "InvalidParameterException"},
		{name: "remove from a version without the label", stage: "AWSCURRENT", to: v3, rem: v2, code: "InvalidParameterException"},
		{name: "move to the version that has it", stage: "AWSCURRENT", to: v1,
			want: map[string][]string{v1: {"AWSCURRENT"}, v2: {"AWSPREVIOUS"}, v3: {"AWSPENDING"}}},
		{name: "discard pending", stage: "AWSPENDING", rem: v3,
			want: map[string][]string{v1: {"AWSCURRENT"}, v2: {"AWSPREVIOUS"}}},
		{name: "remove current", stage: "AWSCURRENT", rem: v1, code: "InvalidParameterException"},
		{name: "neither version", stage: "AWSPENDING", code: "InvalidParameterException"},
		{name: "unknown version", stage: "AWSCURRENT", to: "00000000-0000-4000-8000-000000000000", rem: v1, code: "ResourceNotFoundException"},
		{name: "roll back to the previous", stage: "AWSCURRENT", to: v2, rem: v1,
			want: map[string][]string{v1: {"AWSPREVIOUS"}, v2: {"AWSCURRENT"}, v3: {"AWSPENDING"}}},
		{name: "a custom label", stage: "MINE", to: v2,
			want: map[string][]string{v1: {"AWSCURRENT"}, v2: {"AWSPREVIOUS", "MINE"}, v3: {"AWSPENDING"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := setup(t)
			in := &sm.UpdateSecretVersionStageInput{SecretId: aws.String("s"), VersionStage: aws.String(tc.stage)}
			if tc.to != "" {
				in.MoveToVersionId = aws.String(tc.to)
			}
			if tc.rem != "" {
				in.RemoveFromVersionId = aws.String(tc.rem)
			}
			_, err := c.UpdateSecretVersionStage(ctx, in)
			if tc.code != "" {
				assert.Equal(t, tc.code, errorCode(err))
				assert.Equal(t, map[string][]string{v1: {"AWSCURRENT"}, v2: {"AWSPREVIOUS"}, v3: {"AWSPENDING"}}, stages(t, c, "s"), "unchanged")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, stages(t, c, "s"))
		})
	}
}

func TestGetSecretValueNotFound(t *testing.T) {
	_, c := start(t, "")
	_, err := c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("s"), ClientRequestToken: token(1), SecretString: aws.String("one")})
	require.NoError(t, err)
	for _, tc := range []struct {
		name string
		in   sm.GetSecretValueInput
	}{
		{"unknown name", sm.GetSecretValueInput{SecretId: aws.String("nope")}},
		{"unknown ARN", sm.GetSecretValueInput{SecretId: aws.String("arn:aws:secretsmanager:us-east-1:000000000000:secret:s-abcdef")}},
		{"no pending", sm.GetSecretValueInput{SecretId: aws.String("s"), VersionStage: aws.String("AWSPENDING")}},
		{"unknown version", sm.GetSecretValueInput{SecretId: aws.String("s"), VersionId: token(9)}},
		{"version without that stage", sm.GetSecretValueInput{SecretId: aws.String("s"), VersionId: token(1), VersionStage: aws.String("AWSPENDING")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.GetSecretValue(ctx, &tc.in)
			var rnf *types.ResourceNotFoundException
			require.ErrorAs(t, err, &rnf)
		})
	}
}

func TestDeleteSecret(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	dir := t.TempDir()
	srv, c := start(t, dir)
	srv.Now = clock.Now
	create := func(name string) {
		_, err := c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String(name), ClientRequestToken: token(1), SecretString: aws.String("one")})
		require.NoError(t, err)
	}
	create("s")

	del, err := c.DeleteSecret(ctx, &sm.DeleteSecretInput{SecretId: aws.String("s"), RecoveryWindowInDays: aws.Int64(7)})
	require.NoError(t, err)
	assert.Equal(t, clock.Now().Add(7*24*time.Hour), aws.ToTime(del.DeletionDate).UTC())

	d, err := c.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("s")})
	require.NoError(t, err, "a deleted secret can still be described")
	assert.Equal(t, clock.Now(), aws.ToTime(d.DeletedDate).UTC())

	refused := map[string]error{}
	_, refused["GetSecretValue"] = c.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("s")})
	_, refused["PutSecretValue"] = c.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String("s"), SecretString: aws.String("x")})
	_, refused["UpdateSecretVersionStage"] = c.UpdateSecretVersionStage(ctx, &sm.UpdateSecretVersionStageInput{SecretId: aws.String("s"), VersionStage: aws.String("X"), MoveToVersionId: token(1)})
	_, refused["DeleteSecret"] = c.DeleteSecret(ctx, &sm.DeleteSecretInput{SecretId: aws.String("s")})
	for op, err := range refused {
		var ire *types.InvalidRequestException
		require.ErrorAs(t, err, &ire, op)
		assert.Contains(t, ire.ErrorMessage(), "marked for deletion", op)
	}
	_, err = c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("s"), SecretString: aws.String("one")})
	assert.Equal(t, "InvalidRequestException", errorCode(err), "the name stays taken")

	// After the recovery window the secret is gone and its name free, also
	// for a stand-in started again.
	clock.Advance(7 * 24 * time.Hour)
	_, err = c.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("s")})
	assert.Equal(t, "ResourceNotFoundException", errorCode(err))
	restarted, c2 := start(t, dir)
	restarted.Now = clock.Now
	_, err = c2.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("s")})
	assert.Equal(t, "ResourceNotFoundException", errorCode(err))
	create("s")

	t.Run("force delete", func(t *testing.T) {
		create("f")
		_, err := c.DeleteSecret(ctx, &sm.DeleteSecretInput{SecretId: aws.String("f"), ForceDeleteWithoutRecovery: aws.Bool(true)})
		require.NoError(t, err)
		_, err = c.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("f")})
		assert.Equal(t, "ResourceNotFoundException", errorCode(err))
		create("f")
	})
	t.Run("bad input", func(t *testing.T) {
		for _, in := range []*sm.DeleteSecretInput{
			{SecretId: aws.String("s"), RecoveryWindowInDays: aws.Int64(6)},
			{SecretId: aws.String("s"), RecoveryWindowInDays: aws.Int64(31)},
			{SecretId: aws.String("s"), RecoveryWindowInDays: aws.Int64(7), ForceDeleteWithoutRecovery: aws.Bool(true)},
		} {
			_, err := c.DeleteSecret(ctx, in)
			assert.Equal(t, "InvalidParameterException", errorCode(err))
		}
		_, err := c.DeleteSecret(ctx, &sm.DeleteSecretInput{SecretId: aws.String("nope")})
		assert.Equal(t, "ResourceNotFoundException", errorCode(err))
		assert.Equal(t, "one", value(t, c, "s", "AWSCURRENT"))
	})
}

func TestStateSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	_, c := start(t, dir)
	created, err := c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("s"), ClientRequestToken: token(1), SecretString: aws.String("one"), Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
	require.NoError(t, err)
	_, err = c.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String("s"), ClientRequestToken: token(2), SecretString: aws.String("two"), VersionStages: []string{"AWSPENDING"}})
	require.NoError(t, err)
	_, err = c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("gone"), SecretString: aws.String("x")})
	require.NoError(t, err)
	_, err = c.DeleteSecret(ctx, &sm.DeleteSecretInput{SecretId: aws.String("gone")})
	require.NoError(t, err)

	_, c2 := start(t, dir)
	got, err := c2.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: created.ARN})
	require.NoError(t, err, "found by the same ARN")
	assert.Equal(t, "one", aws.ToString(got.SecretString))
	assert.Equal(t, "two", value(t, c2, "s", "AWSPENDING"))
	assert.Equal(t, map[string][]string{aws.ToString(token(1)): {"AWSCURRENT"}, aws.ToString(token(2)): {"AWSPENDING"}}, stages(t, c2, "s"))
	d, err := c2.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("s")})
	require.NoError(t, err)
	assert.Len(t, d.Tags, 1)
	_, err = c2.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("gone")})
	assert.Equal(t, "InvalidRequestException", errorCode(err), "still marked for deletion")

	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary file left behind")
	assert.Equal(t, secretsmanagerlocal.StateFile, entries[0].Name())
	info, err := entries[0].Info()
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
}

func TestCorruptStateFile(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, secretsmanagerlocal.StateFile), []byte("{not json"), 0o600))
	_, err := secretsmanagerlocal.New(dir)
	require.Error(t, err)
}

func TestUnwritableStateUndoesTheChange(t *testing.T) {
	dir := t.TempDir()
	_, c := start(t, dir)
	// The SDK would retry the 500; one attempt shows the answer.
	c = sm.New(c.Options(), func(o *sm.Options) { o.RetryMaxAttempts = 1 })
	_, err := c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("s"), SecretString: aws.String("one")})
	require.NoError(t, err)

	// A directory where the state file should be makes the rename fail.
	state := filepath.Join(dir, secretsmanagerlocal.StateFile)
	require.NoError(t, os.Rename(state, state+".bak"))
	require.NoError(t, os.Mkdir(state, 0o700))
	_, err = c.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String("s"), SecretString: aws.String("two")})
	assert.Equal(t, "InternalServiceError", errorCode(err))
	assert.Equal(t, "one", value(t, c, "s", "AWSCURRENT"), "the change was undone")
}

func TestWireErrors(t *testing.T) {
	srv, err := secretsmanagerlocal.New("")
	require.NoError(t, err)
	hs := httptest.NewServer(srv)
	defer hs.Close()

	for _, tc := range []struct {
		name, method, path, contentType, target, body string
		status                                        int
		errType                                       string
	}{
		{"get", http.MethodGet, "/", "", "", "", 404, "UnknownOperationException"},
		{"other path", http.MethodPost, "/x", "application/x-amz-json-1.1", "secretsmanager.GetSecretValue", "{}", 404, "UnknownOperationException"},
		{"wrong content type", http.MethodPost, "/", "application/json", "secretsmanager.GetSecretValue", "{}", 400, "SerializationException"},
		{"unknown operation", http.MethodPost, "/", "application/x-amz-json-1.1", "secretsmanager.RotateSecret", "{}", 400, "UnknownOperationException"},
		{"other service", http.MethodPost, "/", "application/x-amz-json-1.1", "DynamoDB_20120810.GetSecretValue", "{}", 400, "UnknownOperationException"},
		{"malformed body", http.MethodPost, "/", "application/x-amz-json-1.1", "secretsmanager.GetSecretValue", "{", 400, "SerializationException"},
		{"no secret id", http.MethodPost, "/", "application/x-amz-json-1.1", "secretsmanager.GetSecretValue", "", 400, "InvalidParameterException"},
		{"not found", http.MethodPost, "/", "application/x-amz-json-1.1", "secretsmanager.GetSecretValue", `{"SecretId":"nope"}`, 400, "ResourceNotFoundException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, hs.URL+tc.path, strings.NewReader(tc.body))
			require.NoError(t, err)
			req.Header.Set("Content-Type", tc.contentType)
			req.Header.Set("X-Amz-Target", tc.target)
			res, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer res.Body.Close()
			assert.Equal(t, tc.status, res.StatusCode)
			assert.Equal(t, "application/x-amz-json-1.1", res.Header.Get("Content-Type"))
			var body map[string]string
			require.NoError(t, json.NewDecoder(res.Body).Decode(&body))
			assert.Equal(t, tc.errType, body["__type"])
			assert.NotEmpty(t, body["message"])
			assert.Len(t, body, 2)
		})
	}
}

func TestFailureInjection(t *testing.T) {
	srv, c := start(t, "")
	_, err := c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("s"), ClientRequestToken: token(1), SecretString: aws.String("one")})
	require.NoError(t, err)
	pending := func(n int) *sm.PutSecretValueInput {
		return &sm.PutSecretValueInput{SecretId: aws.String("s"), ClientRequestToken: token(n), SecretString: aws.String(fmt.Sprint(n)), VersionStages: []string{"AWSPENDING"}}
	}

	t.Run("fail next, before the change, once", func(t *testing.T) {
		srv.FailNext("PutSecretValue", errors.New("boom"))
		_, err := c.PutSecretValue(ctx, pending(2))
		assert.Equal(t, secretsmanagerlocal.InjectedFailure, errorCode(err))
		assert.NotContains(t, stages(t, c, "s"), aws.ToString(token(2)), "nothing changed")
		_, err = c.PutSecretValue(ctx, pending(2))
		require.NoError(t, err, "only once")
	})
	t.Run("fail next after the change: a lost answer", func(t *testing.T) {
		srv.FailNextAfter("PutSecretValue", errors.New("timeout"))
		_, err := c.PutSecretValue(ctx, pending(3))
		require.Error(t, err)
		assert.Equal(t, "3", value(t, c, "s", "AWSPENDING"), "the change took effect")
	})
	t.Run("an AWS error type", func(t *testing.T) {
		srv.FailNext("GetSecretValue", &secretsmanagerlocal.Error{Status: 400, Type: "DecryptionFailure", Message: "kms"})
		_, err := c.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("s")})
		var df *types.DecryptionFailure
		require.ErrorAs(t, err, &df)
	})
	t.Run("only the operation named", func(t *testing.T) {
		srv.FailNext("DeleteSecret", errors.New("boom"))
		assert.Equal(t, "one", value(t, c, "s", "AWSCURRENT"))
		_, err := c.DeleteSecret(ctx, &sm.DeleteSecretInput{SecretId: aws.String("nope")})
		assert.Equal(t, secretsmanagerlocal.InjectedFailure, errorCode(err))
	})
	t.Run("the SDK retries an internal error", func(t *testing.T) {
		// Immediate retries keep the test free of waiting.
		c := sm.New(c.Options(), func(o *sm.Options) {
			o.Retryer = retry.NewStandard(func(o *retry.StandardOptions) { o.Backoff = retry.BackoffDelayerFunc(noDelay) })
		})
		srv.FailNext("GetSecretValue", secretsmanagerlocal.InternalServiceError("hiccup"))
		assert.Equal(t, "one", value(t, c, "s", "AWSCURRENT"))
	})
	t.Run("hook", func(t *testing.T) {
		var mu sync.Mutex
		var seen []string
		srv.Inject(func(op string) error {
			mu.Lock()
			defer mu.Unlock()
			seen = append(seen, op)
			if op == "UpdateSecretVersionStage" {
				return errors.New("no")
			}
			return nil
		})
		defer srv.Inject(nil)
		_, err := c.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("s")})
		require.NoError(t, err)
		_, err = c.UpdateSecretVersionStage(ctx, &sm.UpdateSecretVersionStageInput{SecretId: aws.String("s"), VersionStage: aws.String("AWSPENDING"), RemoveFromVersionId: token(3)})
		assert.Equal(t, secretsmanagerlocal.InjectedFailure, errorCode(err))
		assert.Equal(t, []string{"DescribeSecret", "UpdateSecretVersionStage"}, seen)
	})
}

func noDelay(int, error) (time.Duration, error) { return 0, nil }

func TestConcurrentRequests(t *testing.T) {
	_, c := start(t, t.TempDir())
	_, err := c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("shared"), ClientRequestToken: token(0), SecretString: aws.String("zero")})
	require.NoError(t, err)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := 1; i <= 8; i++ {
		wg.Go(func() {
			if _, err := c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String(fmt.Sprintf("own-%d", i)), SecretString: aws.String("v")}); err != nil {
				errs <- err
			}
			if _, err := c.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String("shared"), ClientRequestToken: token(i), SecretString: aws.String(fmt.Sprint(i)), VersionStages: []string{"AWSPENDING"}}); err != nil {
				errs <- err
			}
			if _, err := c.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("shared")}); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	st := stages(t, c, "shared")
	assert.Len(t, st, 2, "one current, one pending: %v", st)
	assert.Equal(t, []string{"AWSCURRENT"}, st[aws.ToString(token(0))])
}

func TestLogsNeverCarryValues(t *testing.T) {
	var buf bytes.Buffer
	srv, err := secretsmanagerlocal.New("")
	require.NoError(t, err)
	srv.Logger = slog.New(slog.NewJSONHandler(&buf, nil))
	hs := httptest.NewServer(srv)
	defer hs.Close()
	c := secretsmanagerlocal.Client(hs.URL)

	_, err = c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("s"), SecretString: aws.String("Ab1@cdEf-402918")})
	require.NoError(t, err)
	_, err = c.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String("s"), SecretString: aws.String("Zy9#wxUv-718305")})
	require.NoError(t, err)
	_, err = c.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("nope")})
	require.Error(t, err)

	out := buf.String()
	assert.NotContains(t, out, "Ab1@cdEf")
	assert.NotContains(t, out, "Zy9#wxUv")
	assert.Contains(t, out, `"op":"PutSecretValue"`)
	assert.Contains(t, out, `"errorType":"ResourceNotFoundException"`)
	assert.Equal(t, 3, strings.Count(out, "\n"))
}

func TestStartForTest(t *testing.T) {
	_, endpoint := secretsmanagerlocal.StartForTest(t)
	c := sm.NewFromConfig(localaws.Config(), func(o *sm.Options) { o.BaseEndpoint = aws.String(endpoint) })
	_, err := c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("s"), SecretString: aws.String("v")})
	require.NoError(t, err)
	res, err := http.Get(endpoint)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	assert.Equal(t, http.StatusNotFound, res.StatusCode)
}
