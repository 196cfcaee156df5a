package e2e_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"unicode"

	"creditanalysis/infra/localaws"
	"creditanalysis/infra/stack"
	"creditanalysis/shared/app/allareas"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// iamRecorder notes, per area, the IAM actions its AWS calls need: the
// operation's own action (batches' included), and for DynamoDB transactions
// the action of each item (IAM authorizes those, not the envelope).
type iamRecorder struct {
	mu      sync.Mutex
	actions map[string]map[string]bool
}

func newIAMRecorder() *iamRecorder { return &iamRecorder{actions: map[string]map[string]bool{}} }

func (r *iamRecorder) note(area string, actions ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.actions[area] == nil {
		r.actions[area] = map[string]bool{}
	}
	for _, a := range actions {
		r.actions[area][a] = true
	}
}

// transport records the actions of every request an area's client sends.
func (r *iamRecorder) transport(area string) http.RoundTripper {
	return roundTripper(func(req *http.Request) (*http.Response, error) {
		target := req.Header.Get("X-Amz-Target")
		switch {
		case strings.HasPrefix(target, "DynamoDB_20120810."):
			op := strings.TrimPrefix(target, "DynamoDB_20120810.")
			body, _ := io.ReadAll(req.Body)
			req.Body = io.NopCloser(bytes.NewReader(body))
			r.note(area, dynamoActions(op, body)...)
		case strings.HasPrefix(target, "secretsmanager."):
			op := strings.TrimPrefix(target, "secretsmanager.")
			r.note(area, "secretsmanager:"+op)
			if op == "CreateSecret" {
				r.note(area, "secretsmanager:TagResource")
			}
		default: // S3, path-style
			parts := strings.SplitN(strings.TrimPrefix(req.URL.Path, "/"), "/", 2)
			switch {
			case len(parts) < 2 || parts[1] == "":
				r.note(area, "s3:ListBucket")
			case req.Method == http.MethodPut:
				r.note(area, "s3:PutObject")
			case req.Method == http.MethodDelete:
				r.note(area, "s3:DeleteObject")
			default:
				r.note(area, "s3:GetObject")
			}
		}
		return http.DefaultTransport.RoundTrip(req)
	})
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func dynamoActions(op string, body []byte) []string {
	switch op {
	case "TransactWriteItems":
		var in struct{ TransactItems []map[string]json.RawMessage }
		_ = json.Unmarshal(body, &in)
		var out []string
		for _, item := range in.TransactItems {
			for kind := range item {
				out = append(out, map[string]string{"Put": "dynamodb:PutItem", "Update": "dynamodb:UpdateItem",
					"Delete": "dynamodb:DeleteItem", "ConditionCheck": "dynamodb:ConditionCheckItem"}[kind])
			}
		}
		return out
	case "TransactGetItems":
		return []string{"dynamodb:GetItem"}
	}
	return []string{"dynamodb:" + op}
}

// recordingClients are st's clients for one area, recording its actions.
func recordingClients(st *stack.Stack, rec *iamRecorder, area string) allareas.Clients {
	hc := &http.Client{Transport: rec.transport(area)}
	c := st.Clients()
	c.DynamoDB = dynamodb.NewFromConfig(localaws.Config(), func(o *dynamodb.Options) {
		o.BaseEndpoint, o.HTTPClient = aws.String(st.DynamoDBEndpoint), hc
	})
	c.SecretsManager = sm.NewFromConfig(localaws.Config(), func(o *sm.Options) {
		o.BaseEndpoint, o.HTTPClient = aws.String(st.SecretsManagerEndpoint), hc
	})
	c.S3 = s3.NewFromConfig(localaws.Config(), func(o *s3.Options) {
		o.BaseEndpoint, o.HTTPClient, o.UsePathStyle = aws.String(st.S3Endpoint), hc, true
	})
	return c
}

// templateActions reads each function's allowed actions from template.yaml.
func templateActions(t *testing.T) map[string]map[string]bool {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(moduleRoot(t), "template.yaml"))
	require.NoError(t, err)
	var doc struct {
		Resources map[string]struct {
			Type       string `yaml:"Type"`
			Properties struct {
				Policies []struct {
					Statement []struct {
						Effect string    `yaml:"Effect"`
						Action yaml.Node `yaml:"Action"`
					} `yaml:"Statement"`
				} `yaml:"Policies"`
			} `yaml:"Properties"`
		} `yaml:"Resources"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &doc))
	out := map[string]map[string]bool{}
	for id, r := range doc.Resources {
		if r.Type != "AWS::Serverless::Function" {
			continue
		}
		out[id] = map[string]bool{}
		for _, p := range r.Properties.Policies {
			for _, st := range p.Statement {
				if st.Effect != "Allow" {
					continue
				}
				var actions []string
				if st.Action.Kind == yaml.ScalarNode {
					actions = []string{st.Action.Value}
				} else {
					require.NoError(t, st.Action.Decode(&actions))
				}
				for _, a := range actions {
					out[id][a] = true
				}
			}
		}
	}
	return out
}

// functionID names an area's function as the template does.
func functionID(area string) string {
	var b strings.Builder
	up := true
	for _, r := range area {
		if r == '-' {
			up = true
			continue
		}
		if up {
			r = unicode.ToUpper(r)
			up = false
		}
		b.WriteRune(r)
	}
	return b.String() + "Function"
}

// assertLeastPrivilegeSuffices checks that every action an area's calls
// needed is granted to its function in template.yaml.
func assertLeastPrivilegeSuffices(t *testing.T, rec *iamRecorder) {
	t.Helper()
	allowed := templateActions(t)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	require.NotEmpty(t, rec.actions)
	for area, used := range rec.actions {
		fn := functionID(area)
		grants, ok := allowed[fn]
		if !assert.True(t, ok, "no %s in template.yaml", fn) {
			continue
		}
		var missing []string
		for a := range used {
			if !grants[a] {
				missing = append(missing, a)
			}
		}
		sort.Strings(missing)
		assert.Empty(t, missing, "%s calls AWS with actions its policy does not grant", fn)
	}
}
