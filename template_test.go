package creditanalysis_test

// The checks on template.yaml and samconfig.toml that SAM CLI and cfn-lint
// do not make. The checker itself is infra/samtemplate; every check is
// generic over the template: adding a function (its block, its log group)
// needs no change here.

import (
	"debug/elf"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"creditanalysis/infra/apispec"
	"creditanalysis/infra/samtemplate"
	"creditanalysis/shared/app"
	"creditanalysis/shared/app/allareas"
	"creditanalysis/shared/dynamo"
	"creditanalysis/shared/httpapi"

	"github.com/BurntSushi/toml"
	"github.com/awslabs/goformation/v7/cloudformation"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const templateFile = "template.yaml"

// samTemplate is template.yaml as the checker reads it: raw, the plain
// tree, and cfn, typed through goformation.
type samTemplate struct {
	raw map[string]any
	cfn *cloudformation.Template
}

func loadTemplate(t *testing.T) *samTemplate {
	t.Helper()
	tmpl, err := samtemplate.Load(templateFile)
	require.NoError(t, err)
	return &samTemplate{raw: tmpl.Raw, cfn: tmpl.CFN}
}

// Short names for the checker's tree helpers.
var (
	asMap           = samtemplate.AsMap
	str             = samtemplate.Str
	get             = samtemplate.Get
	list            = samtemplate.List
	refTarget       = samtemplate.RefTarget
	getAttTarget    = samtemplate.GetAttTarget
	resourcesOfType = samtemplate.ResourcesOfType
	functions       = samtemplate.Functions
	httpEvents      = samtemplate.HTTPEvents
	patterns        = samtemplate.Patterns
	parseOverrides  = samtemplate.ParseOverrides
)

func sortedKeys[V any](m map[string]V) []string { return samtemplate.SortedKeys(m) }

func TestTemplateParses(t *testing.T) {
	tmpl := loadTemplate(t)
	require.NotNil(t, tmpl.cfn.Transform)
	require.NotNil(t, tmpl.cfn.Transform.String)
	assert.Equal(t, "AWS::Serverless-2016-10-31", *tmpl.cfn.Transform.String)
	assert.NotEmpty(t, tmpl.cfn.GetAllServerlessFunctionResources())
	for _, out := range []string{"ApiUrl", "TableName", "ReportBucketName"} {
		assert.Contains(t, tmpl.cfn.Outputs, out, "Outputs")
	}
}

func TestTemplateReferencesResolve(t *testing.T) {
	assert.Empty(t, samtemplate.ReferenceProblems(loadTemplate(t).raw))
}

func TestTemplateFunctions(t *testing.T) {
	tmpl := loadTemplate(t)
	assert.Empty(t, samtemplate.FunctionProblems(tmpl.raw))
	for _, fn := range functions(tmpl.raw) {
		info, err := os.Stat(fn.CodeURI)
		if assert.NoError(t, err, "%s: CodeUri", fn.ID) {
			assert.True(t, info.IsDir(), "%s: CodeUri %s is not a directory", fn.ID, fn.CodeURI)
		}
	}
}

// TestTemplateFunctionsBuild builds every function the way Lambda runs it:
// linux/arm64, no cgo, no RPC shim.
func TestTemplateFunctionsBuild(t *testing.T) {
	fns := functions(loadTemplate(t).raw)
	require.NotEmpty(t, fns)
	out := t.TempDir()
	args := []string{"build", "-trimpath", "-tags", "lambda.norpc", "-o", out + string(filepath.Separator)}
	for _, fn := range fns {
		args = append(args, "./"+strings.TrimSuffix(fn.CodeURI, "/"))
	}
	cmd := exec.Command("go", args...)
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	output, err := cmd.CombinedOutput()
	require.NoError(t, err, "go %s\n%s", strings.Join(args, " "), output)
	for _, fn := range fns {
		bin := filepath.Join(out, filepath.Base(strings.TrimSuffix(fn.CodeURI, "/")))
		f, err := elf.Open(bin)
		if !assert.NoError(t, err, "%s: %s is not an ELF binary", fn.ID, bin) {
			continue
		}
		assert.Equal(t, elf.EM_AARCH64, f.Machine, "%s", fn.ID)
		f.Close()
	}
}

func TestTemplatePolicies(t *testing.T) {
	tmpl := loadTemplate(t)
	assert.Empty(t, samtemplate.PolicyProblems(tmpl.raw))
	for _, fn := range functions(tmpl.raw) {
		assert.NotEmpty(t, fn.Props["Policies"], "%s has no policy of its own", fn.ID)
	}
}

func TestTemplateTableMatchesDefinition(t *testing.T) {
	tmpl := loadTemplate(t)
	tables := tmpl.cfn.GetAllDynamoDBTableResources()
	require.Len(t, tables, 1, "one table")
	table := tables[sortedKeys(tables)[0]]
	want := dynamo.TableDefinition("t")

	var gotAttrs, wantAttrs []string
	for _, a := range table.AttributeDefinitions {
		gotAttrs = append(gotAttrs, a.AttributeName+":"+a.AttributeType)
	}
	for _, a := range want.AttributeDefinitions {
		wantAttrs = append(wantAttrs, *a.AttributeName+":"+string(a.AttributeType))
	}
	assert.ElementsMatch(t, wantAttrs, gotAttrs, "AttributeDefinitions")

	var gotKeys, wantKeys []string
	for _, k := range table.KeySchema {
		gotKeys = append(gotKeys, k.AttributeName+":"+k.KeyType)
	}
	for _, k := range want.KeySchema {
		wantKeys = append(wantKeys, *k.AttributeName+":"+string(k.KeyType))
	}
	assert.Equal(t, wantKeys, gotKeys, "KeySchema")

	var gotIndexes, wantIndexes []string
	for _, ix := range table.GlobalSecondaryIndexes {
		desc := ix.IndexName
		for _, k := range ix.KeySchema {
			desc += " " + k.AttributeName + ":" + k.KeyType
		}
		if ix.Projection != nil && ix.Projection.ProjectionType != nil {
			desc += " " + *ix.Projection.ProjectionType + fmt.Sprint(ix.Projection.NonKeyAttributes)
		}
		gotIndexes = append(gotIndexes, desc)
	}
	for _, ix := range want.GlobalSecondaryIndexes {
		desc := *ix.IndexName
		for _, k := range ix.KeySchema {
			desc += " " + *k.AttributeName + ":" + string(k.KeyType)
		}
		desc += " " + string(ix.Projection.ProjectionType) + fmt.Sprint(ix.Projection.NonKeyAttributes)
		wantIndexes = append(wantIndexes, desc)
	}
	assert.ElementsMatch(t, wantIndexes, gotIndexes, "GlobalSecondaryIndexes")

	if assert.NotNil(t, table.BillingMode) {
		assert.Equal(t, string(want.BillingMode), *table.BillingMode)
	}
	if assert.NotNil(t, table.TimeToLiveSpecification, "TTL") {
		assert.True(t, table.TimeToLiveSpecification.Enabled)
		assert.Equal(t, dynamo.TTLAttribute, *table.TimeToLiveSpecification.AttributeName)
	}
	if assert.NotNil(t, table.PointInTimeRecoverySpecification, "point-in-time recovery") {
		assert.Equal(t, true, deref(table.PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled))
	}
	if assert.NotNil(t, table.SSESpecification, "encryption") {
		assert.True(t, table.SSESpecification.SSEEnabled)
	}
	assert.Equal(t, true, deref(table.DeletionProtectionEnabled), "DeletionProtectionEnabled")
	assert.EqualValues(t, "Retain", table.AWSCloudFormationDeletionPolicy)
	assert.EqualValues(t, "Retain", table.AWSCloudFormationUpdateReplacePolicy)
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

// TestTemplateCustomerKey: an optional customer-managed key encrypts the
// table, the report bucket and the secrets, and only then may the
// functions use it (samtemplate.CustomerKeyProblems).
func TestTemplateCustomerKey(t *testing.T) {
	assert.Empty(t, samtemplate.CustomerKeyProblems(loadTemplate(t).raw))
}

// TestTemplateReservedConcurrency: the consultations and the billing rule
// reserve the concurrency their parameters give.
func TestTemplateReservedConcurrency(t *testing.T) {
	assert.Empty(t, samtemplate.ConcurrencyProblems(loadTemplate(t).raw))
}

func TestTemplateReportBucket(t *testing.T) {
	tmpl := loadTemplate(t)
	buckets := tmpl.cfn.GetAllS3BucketResources()
	require.NotEmpty(t, buckets)
	resources := asMap(tmpl.raw["Resources"])
	for _, id := range sortedKeys(buckets) {
		b := buckets[id]
		if pab := b.PublicAccessBlockConfiguration; assert.NotNil(t, pab, "%s: public access block", id) {
			for name, v := range map[string]*bool{"BlockPublicAcls": pab.BlockPublicAcls, "BlockPublicPolicy": pab.BlockPublicPolicy,
				"IgnorePublicAcls": pab.IgnorePublicAcls, "RestrictPublicBuckets": pab.RestrictPublicBuckets} {
				assert.Equal(t, true, deref(v), "%s: %s", id, name)
			}
		}
		if assert.NotNil(t, b.BucketEncryption, "%s: encryption", id) && assert.NotEmpty(t, b.BucketEncryption.ServerSideEncryptionConfiguration) {
			for _, rule := range b.BucketEncryption.ServerSideEncryptionConfiguration {
				// The algorithm depends on the customer key (an Fn::If,
				// which CustomerKeyProblems checks): encrypted either way.
				assert.NotNil(t, rule.ServerSideEncryptionByDefault)
			}
		}
		if assert.NotNil(t, b.OwnershipControls, "%s: ownership controls", id) && assert.NotEmpty(t, b.OwnershipControls.Rules) {
			assert.Equal(t, "BucketOwnerEnforced", deref(b.OwnershipControls.Rules[0].ObjectOwnership), "%s: ACLs disabled", id)
		}
		expires := false
		if b.LifecycleConfiguration != nil {
			for _, rule := range b.LifecycleConfiguration.Rules {
				expires = expires || (rule.Status == "Enabled" && rule.ExpirationInDays != nil)
			}
		}
		assert.True(t, expires, "%s: a lifecycle rule expires objects", id)
		assert.True(t, samtemplate.HasTLSOnlyPolicy(resources, id), "%s: no bucket policy denies aws:SecureTransport=false on the bucket and its objects", id)
	}
}

func TestTemplateHTTPAPI(t *testing.T) {
	tmpl := loadTemplate(t)
	apis := resourcesOfType(tmpl.raw, "AWS::Serverless::HttpApi")
	require.Len(t, apis, 1, "one HTTP API")
	api := apis[0]
	props := asMap(get(tmpl.raw, "Resources", api, "Properties"))

	authorizer := str(get(props, "Auth", "DefaultAuthorizer"))
	require.NotEmpty(t, authorizer, "a default authorizer: every route needs a token unless it says otherwise")
	jwt := asMap(get(props, "Auth", "Authorizers", authorizer, "JwtConfiguration"))
	assert.Equal(t, "JwtIssuer", refTarget(jwt["issuer"]), "issuer from the JwtIssuer parameter")
	assert.Equal(t, "JwtAudience", refTarget(jwt["audience"]), "audience from the JwtAudience parameter")

	logGroup, attr := getAttTarget(get(props, "AccessLogSettings", "DestinationArn"))
	assert.Equal(t, "Arn", attr, "access logs go to a log group of the template")
	assert.Equal(t, "AWS::Logs::LogGroup", get(tmpl.raw, "Resources", logGroup, "Type"))
	assert.NotNil(t, get(tmpl.raw, "Resources", logGroup, "Properties", "RetentionInDays"), "access log retention")
	assert.NotEmpty(t, get(props, "AccessLogSettings", "Format"))

	for _, fn := range functions(tmpl.raw) {
		for _, r := range httpEvents(fn) {
			assert.Equal(t, api, r.APIRef, "%s %s: ApiId must be !Ref %s, or SAM creates another API", fn.ID, r.Pattern, api)
		}
	}
}

func TestTemplateSchedule(t *testing.T) {
	assert.Empty(t, samtemplate.ScheduleProblems(loadTemplate(t).raw))
}

// functionAreas is every function's area by function name, wired without
// clients: enough to list routes.
func functionAreas() map[string]httpapi.Area {
	out := map[string]httpapi.Area{}
	for _, fn := range allareas.New(allareas.Config{App: app.Config{Table: "t"}}, allareas.Clients{}, slog.New(slog.DiscardHandler)).Functions() {
		out[fn.Name] = fn.Area
	}
	return out
}

// TestTemplateRoutes holds the template, the handlers, the access matrix
// and the OpenAPI document to one set of routes.
func TestTemplateRoutes(t *testing.T) {
	tmpl := loadTemplate(t)
	areas := functionAreas()
	ops := apispec.Load(t).Operations()

	templatePublic := map[string]bool{}
	served := map[string]bool{}
	for _, fn := range functions(tmpl.raw) {
		events := httpEvents(fn)
		area, ok := areas[fn.Area]
		if !ok {
			assert.Empty(t, patterns(events), "%s has HttpApi routes but allareas lists no function %q", fn.ID, fn.Area)
			continue
		}
		served[fn.Area] = true
		var registered []string
		for _, r := range area.Routes() {
			registered = append(registered, r.Pattern())
		}
		sort.Strings(registered)
		assert.Equal(t, registered, patterns(events), "%s: HttpApi events vs the routes area %q registers", fn.ID, fn.Area)
		for _, r := range events {
			_, twice := templatePublic[r.Pattern]
			assert.False(t, twice, "%s: %s is served by two functions", fn.ID, r.Pattern)
			templatePublic[r.Pattern] = r.Public
		}
	}
	for name := range areas {
		assert.True(t, served[name], "area %q has no function (CodeUri functions/%s/) in %s", name, name, templateFile)
	}

	var documented []string
	for _, op := range ops {
		documented = append(documented, op.String())
		if public, ok := templatePublic[op.String()]; ok {
			assert.Equal(t, op.Public, public, "%s: public (security: []) in openapi.yaml vs Auth: {Authorizer: NONE} in the template", op)
			assert.Equal(t, op.Public, httpapi.IsPublic(op.String()), "%s: public in openapi.yaml vs httpapi.Access", op)
		}
	}
	assert.ElementsMatch(t, sortedKeys(templatePublic), documented, "routes in %s vs operations in openapi.yaml", templateFile)
}

// TestAccessMatrixCoversEveryRoute: a route without an entry in the role
// matrix has no decided roles, and an entry without a route is a matrix
// that says something nobody serves.
func TestAccessMatrixCoversEveryRoute(t *testing.T) {
	areas := functionAreas()
	require.NotEmpty(t, areas)
	served := map[string]bool{}
	for name, area := range areas {
		for _, r := range area.Routes() {
			assert.Contains(t, httpapi.Access, r.Pattern(), "area %q: route has no entry in httpapi.Access", name)
			served[r.Pattern()] = true
		}
	}
	for route := range httpapi.Access {
		assert.True(t, served[route], "httpapi.Access lists %q, which no area serves", route)
	}
}

// ---- samconfig.toml

func TestSAMConfig(t *testing.T) {
	var doc map[string]any
	_, err := toml.DecodeFile("samconfig.toml", &doc)
	require.NoError(t, err)
	assert.EqualValues(t, 0.1, doc["version"])

	tmpl := loadTemplate(t)
	params := asMap(tmpl.raw["Parameters"])
	stacks := map[string]string{}
	for _, env := range []string{"default", "dev", "prod"} {
		deploy := asMap(get(doc, env, "deploy", "parameters"))
		require.NotNil(t, deploy, "[%s.deploy.parameters]", env)
		assert.NotEmpty(t, deploy["stack_name"], "%s: stack_name", env)
		assert.Equal(t, "sa-east-1", deploy["region"], "%s: region", env)
		assert.Contains(t, list(deploy["capabilities"]), "CAPABILITY_IAM", "%s: capabilities", env)
		assert.Contains(t, deploy, "confirm_changeset", "%s", env)
		assert.Equal(t, true, deploy["resolve_s3"], "%s: resolve_s3", env)

		overrides, err := parseOverrides(str(deploy["parameter_overrides"]))
		require.NoError(t, err, "%s: parameter_overrides", env)
		for name := range overrides {
			assert.Contains(t, params, name, "%s: parameter_overrides names %q, which the template does not declare", env, name)
		}
		for _, name := range sortedKeys(params) {
			if get(params, name, "Default") == nil {
				assert.Contains(t, overrides, name, "%s: template parameter %s has no default and no override", env, name)
			}
		}
		for name, value := range overrides {
			if allowed := list(get(params, name, "AllowedValues")); len(allowed) > 0 {
				ok := slices.ContainsFunc(allowed, func(a any) bool { return fmt.Sprint(a) == value })
				assert.True(t, ok, "%s: %s=%s is not one of %v", env, name, value, allowed)
			}
		}
		if env != "default" {
			assert.Equal(t, env, overrides["Stage"], "%s: Stage", env)
			stacks[env] = str(deploy["stack_name"])
		}
	}
	assert.NotEqual(t, stacks["dev"], stacks["prod"], "dev and prod are different stacks")
}

// TestTemplateRoleGroups: the stack's default groups are the functions'
// defaults, and its pattern refuses what the functions would refuse.
func TestTemplateRoleGroups(t *testing.T) {
	p := asMap(asMap(loadTemplate(t).raw["Parameters"])["RoleGroups"])
	assert.Equal(t, httpapi.DefaultRoleGroupsText, p["Default"])
	pattern := regexp.MustCompile(p["AllowedPattern"].(string))
	for _, ok := range []string{httpapi.DefaultRoleGroupsText, "admin=TI,admin=Ops,viewer=Leitura"} {
		assert.True(t, pattern.MatchString(ok), ok)
		_, err := httpapi.ParseRoleGroups(ok)
		assert.NoError(t, err, ok)
	}
	for _, bad := range []string{"", "root=x", "admin=IT admin", "admin=a[b]", "admin=", "admin=x,", "Admin=x"} {
		assert.False(t, pattern.MatchString(bad), bad)
	}
}
