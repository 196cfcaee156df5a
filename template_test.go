package creditanalysis_test

// Neither SAM CLI nor cfn-lint runs here, so this file is what checks
// template.yaml and samconfig.toml. Every check is generic over the
// template: adding a function (its block, its log group) needs no change
// here.

import (
	"debug/elf"
	"encoding/json"
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
	"creditanalysis/shared/app"
	"creditanalysis/shared/dynamo"
	"creditanalysis/shared/httpapi"

	"github.com/BurntSushi/toml"
	"github.com/awslabs/goformation/v7"
	"github.com/awslabs/goformation/v7/cloudformation"
	"github.com/awslabs/goformation/v7/intrinsics"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const templateFile = "template.yaml"

// samTemplate is template.yaml read twice: as a plain tree with intrinsic
// functions kept in long form ({"Ref": X}, {"Fn::GetAtt": ...},
// {"Fn::Sub": ...}), for references, policies and the SAM properties, and
// typed through goformation, which also refuses misspelled properties.
type samTemplate struct {
	raw map[string]any
	cfn *cloudformation.Template
}

// goformationLacks lists SAM properties that goformation v7's generated
// schema does not know (its decoder refuses unknown fields). They are removed
// from the copy goformation parses and checked on the raw tree instead.
var goformationLacks = map[string][]string{
	"AWS::Serverless::Function": {"LoggingConfig", "RecursiveLoop", "RuntimeManagementConfig", "SnapStart"},
	"AWS::Serverless::HttpApi":  {"AccessLogSettings"},
}

func loadTemplate(t *testing.T) *samTemplate {
	t.Helper()
	data, err := os.ReadFile(templateFile)
	require.NoError(t, err)
	raw, err := rawTemplate(data)
	require.NoError(t, err)

	typed := deepCopy(t, raw)
	for _, res := range asMap(typed["Resources"]) {
		res := asMap(res)
		for _, prop := range goformationLacks[str(res["Type"])] {
			delete(asMap(res["Properties"]), prop)
		}
	}
	for _, prop := range goformationLacks["AWS::Serverless::Function"] {
		delete(asMap(get(typed, "Globals", "Function")), prop)
	}
	for _, prop := range goformationLacks["AWS::Serverless::HttpApi"] {
		delete(asMap(get(typed, "Globals", "HttpApi")), prop)
	}
	js, err := json.Marshal(typed)
	require.NoError(t, err)
	cfn, err := goformation.ParseJSON(js)
	require.NoError(t, err, "goformation refuses %s", templateFile)
	return &samTemplate{raw: raw, cfn: cfn}
}

// rawTemplate reads YAML with the short-form tags (!Ref, !Sub, ...) turned
// into their long form and nothing resolved.
func rawTemplate(data []byte) (map[string]any, error) {
	js, err := intrinsics.ProcessYAML(data, &intrinsics.ProcessorOptions{NoProcess: true})
	if err != nil {
		return nil, err
	}
	var raw map[string]any
	if err := json.Unmarshal(js, &raw); err != nil {
		return nil, err
	}
	return raw, nil
}

func deepCopy(t *testing.T, v map[string]any) map[string]any {
	js, err := json.Marshal(v)
	require.NoError(t, err)
	var out map[string]any
	require.NoError(t, json.Unmarshal(js, &out))
	return out
}

// ---- tree helpers

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func get(v any, keys ...string) any {
	for _, k := range keys {
		v = asMap(v)[k]
	}
	return v
}

// list returns v as a list: CloudFormation accepts a single item where a
// list is expected (Action, Resource, Statement, Policies).
func list(v any) []any {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		return x
	default:
		return []any{x}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// resourcesOfType returns the logical IDs of the resources of type typ.
func resourcesOfType(raw map[string]any, typ string) []string {
	var ids []string
	for _, id := range sortedKeys(asMap(raw["Resources"])) {
		if str(get(raw, "Resources", id, "Type")) == typ {
			ids = append(ids, id)
		}
	}
	return ids
}

// refTarget returns X for {"Ref": X}.
func refTarget(v any) string { return str(asMap(v)["Ref"]) }

// getAttTarget returns (resource, attribute) for both GetAtt forms.
func getAttTarget(v any) (string, string) {
	switch x := asMap(v)["Fn::GetAtt"].(type) {
	case string:
		res, attr, _ := strings.Cut(x, ".")
		return res, attr
	case []any:
		if len(x) == 2 {
			return str(x[0]), str(x[1])
		}
	}
	return "", ""
}

// ---- references

var pseudoParameters = map[string]bool{
	"AWS::AccountId": true, "AWS::NotificationARNs": true, "AWS::NoValue": true, "AWS::Partition": true,
	"AWS::Region": true, "AWS::StackId": true, "AWS::StackName": true, "AWS::URLSuffix": true,
}

// knownAttributes are the GetAtt attributes of the resource types the
// template uses; a type not listed here accepts any attribute.
var knownAttributes = map[string][]string{
	"AWS::DynamoDB::Table":      {"Arn", "StreamArn"},
	"AWS::S3::Bucket":           {"Arn", "DomainName", "DualStackDomainName", "RegionalDomainName", "WebsiteURL"},
	"AWS::Logs::LogGroup":       {"Arn"},
	"AWS::Serverless::Function": {"Arn"},
	"AWS::Lambda::Function":     {"Arn"},
	"AWS::IAM::Role":            {"Arn", "RoleId"},
	"AWS::SQS::Queue":           {"Arn", "QueueName", "QueueUrl"},
	"AWS::SNS::Topic":           {"TopicArn", "TopicName"},
}

var subVariable = regexp.MustCompile(`\$\{([^}]*)\}`)

// referenceProblems lists every Ref, GetAtt, Sub variable, DependsOn and
// Condition that names nothing in the template.
func referenceProblems(raw map[string]any) []string {
	params := asMap(raw["Parameters"])
	resources := asMap(raw["Resources"])
	conditions := asMap(raw["Conditions"])
	// SAM creates <Function>Role for a function without a Role; the template
	// may refer to it.
	generated := map[string]string{}
	for _, fn := range resourcesOfType(raw, "AWS::Serverless::Function") {
		if get(raw, "Resources", fn, "Properties", "Role") == nil {
			generated[fn+"Role"] = "AWS::IAM::Role"
		}
	}
	typeOf := func(id string) (string, bool) {
		if r, ok := resources[id]; ok {
			return str(asMap(r)["Type"]), true
		}
		typ, ok := generated[id]
		return typ, ok
	}

	var problems []string
	checkRef := func(where, name string) {
		if pseudoParameters[name] || params[name] != nil {
			return
		}
		if _, ok := typeOf(name); !ok {
			problems = append(problems, fmt.Sprintf("%s: Ref %q names no parameter or resource", where, name))
		}
	}
	checkGetAtt := func(where, res, attr string) {
		typ, ok := typeOf(res)
		if !ok {
			problems = append(problems, fmt.Sprintf("%s: GetAtt %s.%s names no resource", where, res, attr))
			return
		}
		if known, listed := knownAttributes[typ]; listed && !slices.Contains(known, attr) {
			problems = append(problems, fmt.Sprintf("%s: GetAtt %s.%s: %s has no attribute %q", where, res, attr, typ, attr))
		}
	}
	checkSub := func(where, text string, locals map[string]any) {
		for _, m := range subVariable.FindAllStringSubmatch(text, -1) {
			name := strings.TrimSpace(m[1])
			if strings.HasPrefix(name, "!") || locals[name] != nil {
				continue // ${!Literal} is not a variable
			}
			if res, attr, dotted := strings.Cut(name, "."); dotted {
				checkGetAtt(where, res, attr)
				continue
			}
			checkRef(where, name)
		}
	}

	var walk func(where string, v any)
	walk = func(where string, v any) {
		switch x := v.(type) {
		case []any:
			for i, item := range x {
				walk(fmt.Sprintf("%s[%d]", where, i), item)
			}
		case map[string]any:
			if len(x) == 1 {
				switch {
				case x["Ref"] != nil:
					checkRef(where, str(x["Ref"]))
					return
				case x["Fn::GetAtt"] != nil:
					res, attr := getAttTarget(x)
					checkGetAtt(where, res, attr)
					return
				case x["Fn::Sub"] != nil:
					switch sub := x["Fn::Sub"].(type) {
					case string:
						checkSub(where, sub, nil)
					case []any:
						if len(sub) == 2 {
							checkSub(where, str(sub[0]), asMap(sub[1]))
							walk(where, sub[1])
						}
					}
					return
				case x["Fn::If"] != nil:
					args := list(x["Fn::If"])
					if len(args) == 3 {
						if conditions[str(args[0])] == nil {
							problems = append(problems, fmt.Sprintf("%s: Fn::If names no condition %q", where, args[0]))
						}
						walk(where, args[1:])
					}
					return
				}
			}
			for _, k := range sortedKeys(x) {
				walk(where+"."+k, x[k])
			}
		}
	}
	for _, section := range []string{"Globals", "Resources", "Outputs", "Conditions"} {
		walk(section, raw[section])
	}
	for _, id := range sortedKeys(resources) {
		res := asMap(resources[id])
		for _, dep := range list(res["DependsOn"]) {
			if _, ok := typeOf(str(dep)); !ok {
				problems = append(problems, fmt.Sprintf("Resources.%s.DependsOn: no resource %q", id, dep))
			}
		}
		if c := str(res["Condition"]); c != "" && conditions[c] == nil {
			problems = append(problems, fmt.Sprintf("Resources.%s.Condition: no condition %q", id, c))
		}
	}
	return problems
}

// ---- functions

// lambdaFunction is one AWS::Serverless::Function and the area it serves.
type lambdaFunction struct {
	ID      string
	Area    string // from CodeUri functions/<area>/
	CodeURI string
	Props   map[string]any
}

var codeURIPattern = regexp.MustCompile(`^functions/([a-z0-9]+(?:-[a-z0-9]+)*)/?$`)

func functions(raw map[string]any) []lambdaFunction {
	var fns []lambdaFunction
	for _, id := range resourcesOfType(raw, "AWS::Serverless::Function") {
		props := asMap(get(raw, "Resources", id, "Properties"))
		uri := str(props["CodeUri"])
		area := ""
		if m := codeURIPattern.FindStringSubmatch(uri); m != nil {
			area = m[1]
		}
		fns = append(fns, lambdaFunction{ID: id, Area: area, CodeURI: uri, Props: props})
	}
	return fns
}

// effective is a function property as SAM resolves it: the function's own
// value, else the Globals one.
func effective(raw map[string]any, fn lambdaFunction, key string) any {
	if v, ok := fn.Props[key]; ok {
		return v
	}
	return get(raw, "Globals", "Function", key)
}

// logicalIDFor is the function's expected logical ID: billing-rule ->
// BillingRuleFunction.
func logicalIDFor(area string) string {
	var b strings.Builder
	for _, part := range strings.Split(area, "-") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String() + "Function"
}

// requiredEnvironment is what every function reads (shared/app and the
// adapters); Globals provides it once for all.
var requiredEnvironment = []string{
	"TABLE_NAME", "ROLES_CLAIM", "LOG_LEVEL", "SECRET_PREFIX", "REPORT_BUCKET",
	"CONNECTSA_HOMOLOGATION_URL", "CONNECTSA_PRODUCTION_URL",
}

// apiTimeoutSeconds is the most a function behind API Gateway may take:
// the gateway gives up after 30 s.
const apiTimeoutSeconds = 29

func functionProblems(raw map[string]any) []string {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	fns := functions(raw)
	if len(fns) == 0 {
		add("no AWS::Serverless::Function")
	}
	for _, name := range requiredEnvironment {
		if get(raw, "Globals", "Function", "Environment", "Variables", name) == nil {
			add("Globals.Function.Environment.Variables.%s is missing", name)
		}
	}
	logGroups := resourcesOfType(raw, "AWS::Logs::LogGroup")
	for _, fn := range fns {
		if fn.Area == "" {
			add("%s: CodeUri %q is not functions/<area>/", fn.ID, fn.CodeURI)
		} else if want := logicalIDFor(fn.Area); fn.ID != want {
			add("%s: a function for functions/%s/ is named %s", fn.ID, fn.Area, want)
		}
		for key, want := range map[string]any{"Runtime": "provided.al2023", "Handler": "bootstrap", "Tracing": "Active"} {
			if got := effective(raw, fn, key); got != want {
				add("%s: %s is %v, want %v", fn.ID, key, got, want)
			}
		}
		if arch := list(effective(raw, fn, "Architectures")); len(arch) != 1 || arch[0] != "arm64" {
			add("%s: Architectures is %v, want [arm64]", fn.ID, arch)
		}
		if f := str(get(effective(raw, fn, "LoggingConfig"), "LogFormat")); f != "JSON" {
			add("%s: LoggingConfig.LogFormat is %q, want JSON", fn.ID, f)
		}
		method := str(get(raw, "Resources", fn.ID, "Metadata", "BuildMethod"))
		if method != "go1.x" && method != "makefile" {
			add("%s: Metadata.BuildMethod is %q, want go1.x or makefile", fn.ID, method)
		}
		if len(httpEvents(fn)) > 0 && len(httpEvents(fn)) == len(asMap(fn.Props["Events"])) {
			timeout, _ := effective(raw, fn, "Timeout").(float64)
			if timeout <= 0 || timeout > apiTimeoutSeconds {
				add("%s: Timeout %v s; an API function must answer within %d s", fn.ID, timeout, apiTimeoutSeconds)
			}
		}
		if !hasLogGroup(raw, fn, logGroups) {
			add("%s: no AWS::Logs::LogGroup named !Sub /aws/lambda/${%s} with RetentionInDays (or LoggingConfig.LogGroup)", fn.ID, fn.ID)
		}
	}
	return problems
}

// hasLogGroup reports whether fn's logs go to a log group the template owns,
// with a retention: /aws/lambda/${Fn}, or the group LoggingConfig names.
func hasLogGroup(raw map[string]any, fn lambdaFunction, logGroups []string) bool {
	named := refTarget(get(fn.Props, "LoggingConfig", "LogGroup"))
	for _, lg := range logGroups {
		props := asMap(get(raw, "Resources", lg, "Properties"))
		if props["RetentionInDays"] == nil {
			continue
		}
		name := props["LogGroupName"]
		if named == "" && str(asMap(name)["Fn::Sub"]) == "/aws/lambda/${"+fn.ID+"}" {
			return true
		}
		if named == lg {
			return true
		}
	}
	return false
}

// ---- policies

// resourceWildcardActions are the actions AWS grants only on Resource "*".
var resourceWildcardActions = []string{
	"xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets",
	"cloudwatch:PutMetricData", "secretsmanager:GetRandomPassword",
}

// forbiddenActions are never granted: no Scan on any path of this service.
var forbiddenActions = []string{"dynamodb:Scan"}

// policyProblems checks every IAM statement in the template: no Allow with
// a wildcard action or NotAction, Resource "*" only for the actions AWS
// requires it for, DynamoDB actions only on the table and its indexes, and
// function policies written out (no managed policies or SAM policy
// templates, which grant more than a function uses). Deny statements may
// use wildcards: they only take away.
func policyProblems(raw map[string]any) []string {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	tables := resourcesOfType(raw, "AWS::DynamoDB::Table")

	for _, fn := range functions(raw) {
		for i, p := range list(fn.Props["Policies"]) {
			if asMap(p)["Statement"] == nil {
				add("%s.Policies[%d]: %v is not an inline policy document; name the actions the function uses", fn.ID, i, p)
			}
		}
		if get(raw, "Globals", "Function", "Policies") != nil {
			add("Globals.Function.Policies: each function states its own policy")
		}
	}

	var walk func(where string, v any)
	walk = func(where string, v any) {
		switch x := v.(type) {
		case []any:
			for i, item := range x {
				walk(fmt.Sprintf("%s[%d]", where, i), item)
			}
		case map[string]any:
			if stmts, ok := x["Statement"]; ok {
				for i, s := range list(stmts) {
					for _, p := range statementProblems(asMap(s), tables) {
						add("%s.Statement[%d]: %s", where, i, p)
					}
				}
				return
			}
			for _, k := range sortedKeys(x) {
				walk(where+"."+k, x[k])
			}
		}
	}
	walk("Resources", raw["Resources"])
	return problems
}

func statementProblems(s map[string]any, tables []string) []string {
	if s["Effect"] != "Allow" {
		return nil
	}
	var problems []string
	if s["NotAction"] != nil || s["NotResource"] != nil {
		problems = append(problems, "an Allow with NotAction/NotResource grants everything else")
	}
	actions := list(s["Action"])
	resources := list(s["Resource"])
	onlyWildcardActions := len(actions) > 0
	usesDynamoDB := false
	for _, a := range actions {
		action := str(a)
		if strings.Contains(action, "*") {
			problems = append(problems, fmt.Sprintf("wildcard action %q", action))
		}
		if slices.Contains(forbiddenActions, action) {
			problems = append(problems, fmt.Sprintf("action %q is not allowed", action))
		}
		if !slices.Contains(resourceWildcardActions, action) {
			onlyWildcardActions = false
		}
		if strings.HasPrefix(action, "dynamodb:") {
			usesDynamoDB = true
		}
	}
	for _, r := range resources {
		if r == "*" && !onlyWildcardActions {
			problems = append(problems, fmt.Sprintf("Resource \"*\" for %v", actions))
		}
		if usesDynamoDB && !isTableARN(r, tables) {
			problems = append(problems, fmt.Sprintf("DynamoDB actions on %v, not the table or its indexes", r))
		}
	}
	if len(resources) == 0 && s["Principal"] == nil {
		problems = append(problems, "no Resource")
	}
	return problems
}

// isTableARN accepts !GetAtt Table.Arn and !Sub "${Table.Arn}/index/...".
func isTableARN(r any, tables []string) bool {
	if res, attr := getAttTarget(r); attr == "Arn" && slices.Contains(tables, res) {
		return true
	}
	sub := str(asMap(r)["Fn::Sub"])
	for _, table := range tables {
		prefix := "${" + table + ".Arn}"
		if sub == prefix || strings.HasPrefix(sub, prefix+"/index/") {
			return true
		}
	}
	return false
}

// ---- schedule

// billingRuleSchedule is when the billing rule runs: daily at 06:00 in
// Brasília time, whatever the season.
var billingRuleSchedule = map[string]string{
	"ScheduleExpression":         "cron(0 6 * * ? *)",
	"ScheduleExpressionTimezone": "America/Sao_Paulo",
}

func scheduleProblems(raw map[string]any) []string {
	var problems []string
	for _, fn := range functions(raw) {
		if fn.Area != "billing-rule" {
			continue
		}
		found := false
		for _, name := range sortedKeys(asMap(fn.Props["Events"])) {
			ev := asMap(asMap(fn.Props["Events"])[name])
			if ev["Type"] != "ScheduleV2" {
				continue
			}
			found = true
			for key, want := range billingRuleSchedule {
				if got := get(ev, "Properties", key); got != want {
					problems = append(problems, fmt.Sprintf("%s.Events.%s.Properties.%s is %v, want %q", fn.ID, name, key, got, want))
				}
			}
		}
		if !found {
			problems = append(problems, fmt.Sprintf("%s has no ScheduleV2 event", fn.ID))
		}
	}
	return problems
}

// ---- routes

// route is one HttpApi event of a function.
type route struct {
	Pattern string // "METHOD /path", as httpapi.Access keys it
	Public  bool   // Auth.Authorizer: NONE
	APIRef  string // the HttpApi its ApiId refers to
}

func httpEvents(fn lambdaFunction) []route {
	var routes []route
	events := asMap(fn.Props["Events"])
	for _, name := range sortedKeys(events) {
		ev := asMap(events[name])
		if ev["Type"] != "HttpApi" {
			continue
		}
		p := asMap(ev["Properties"])
		routes = append(routes, route{
			Pattern: strings.ToUpper(str(p["Method"])) + " " + str(p["Path"]),
			Public:  get(p, "Auth", "Authorizer") == "NONE",
			APIRef:  refTarget(p["ApiId"]),
		})
	}
	return routes
}

func patterns(routes []route) []string {
	out := make([]string, 0, len(routes))
	for _, r := range routes {
		out = append(out, r.Pattern)
	}
	sort.Strings(out)
	return out
}

// ==== the tests

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
	assert.Empty(t, referenceProblems(loadTemplate(t).raw))
}

func TestTemplateFunctions(t *testing.T) {
	tmpl := loadTemplate(t)
	assert.Empty(t, functionProblems(tmpl.raw))
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
	assert.Empty(t, policyProblems(tmpl.raw))
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
			desc += " " + *ix.Projection.ProjectionType
		}
		gotIndexes = append(gotIndexes, desc)
	}
	for _, ix := range want.GlobalSecondaryIndexes {
		desc := *ix.IndexName
		for _, k := range ix.KeySchema {
			desc += " " + *k.AttributeName + ":" + string(k.KeyType)
		}
		desc += " " + string(ix.Projection.ProjectionType)
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
				if assert.NotNil(t, rule.ServerSideEncryptionByDefault) {
					assert.Contains(t, []string{"AES256", "aws:kms", "aws:kms:dsse"}, rule.ServerSideEncryptionByDefault.SSEAlgorithm)
				}
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
		assert.True(t, hasTLSOnlyPolicy(resources, id), "%s: no bucket policy denies aws:SecureTransport=false on the bucket and its objects", id)
	}
}

// hasTLSOnlyPolicy looks for a bucket policy on bucket that denies every
// request made without TLS.
func hasTLSOnlyPolicy(resources map[string]any, bucket string) bool {
	for _, id := range sortedKeys(resources) {
		res := asMap(resources[id])
		props := asMap(res["Properties"])
		if res["Type"] != "AWS::S3::BucketPolicy" || refTarget(props["Bucket"]) != bucket {
			continue
		}
		for _, s := range list(get(props, "PolicyDocument", "Statement")) {
			s := asMap(s)
			secure := get(s, "Condition", "Bool", "aws:SecureTransport")
			if s["Effect"] != "Deny" || (secure != "false" && secure != false) {
				continue
			}
			principal := s["Principal"]
			if principal != "*" && get(principal, "AWS") != "*" {
				continue
			}
			onBucket, onObjects := false, false
			for _, r := range list(s["Resource"]) {
				if res, attr := getAttTarget(r); res == bucket && attr == "Arn" {
					onBucket = true
				}
				if str(asMap(r)["Fn::Sub"]) == "${"+bucket+".Arn}/*" {
					onObjects = true
				}
			}
			if onBucket && onObjects && slices.ContainsFunc(list(s["Action"]), func(a any) bool { return a == "s3:*" }) {
				return true
			}
		}
	}
	return false
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
	assert.Empty(t, scheduleProblems(loadTemplate(t).raw))
}

// TestTemplateRoutes holds the template, the handlers, the access matrix
// and the OpenAPI document to one set of routes.
func TestTemplateRoutes(t *testing.T) {
	tmpl := loadTemplate(t)
	areas := app.New(app.Config{Table: "t"}, app.Clients{}, slog.New(slog.DiscardHandler)).Areas()
	ops := apispec.Load(t).Operations()

	templatePublic := map[string]bool{}
	served := map[string]bool{}
	for _, fn := range functions(tmpl.raw) {
		events := httpEvents(fn)
		area, ok := areas[fn.Area]
		if !ok {
			assert.Empty(t, patterns(events), "%s has HttpApi routes but app.Areas() has no area %q", fn.ID, fn.Area)
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
	areas := app.New(app.Config{Table: "t"}, app.Clients{}, slog.New(slog.DiscardHandler)).Areas()
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

// parseOverrides reads SAM's `Name=value Name2="quoted value"` form.
func parseOverrides(s string) (map[string]string, error) {
	out := map[string]string{}
	for s = strings.TrimSpace(s); s != ""; s = strings.TrimSpace(s) {
		name, rest, ok := strings.Cut(s, "=")
		if !ok || name == "" || strings.ContainsAny(name, " \"") {
			return nil, fmt.Errorf("malformed override near %q", s)
		}
		var value string
		if strings.HasPrefix(rest, `"`) {
			end := strings.Index(rest[1:], `"`)
			if end < 0 {
				return nil, fmt.Errorf("unterminated quote in %s", name)
			}
			value, s = rest[1:end+1], rest[end+2:]
		} else {
			value, s, _ = strings.Cut(rest, " ")
		}
		out[name] = value
	}
	return out, nil
}

// ---- the checks themselves

// checkedTemplate is a small template every check accepts; each case below
// breaks one thing and expects the check to name it.
const checkedTemplate = `
Parameters:
  Stage: {Type: String}
Globals:
  Function:
    Runtime: provided.al2023
    Architectures: [arm64]
    Handler: bootstrap
    Timeout: 29
    Tracing: Active
    LoggingConfig: {LogFormat: JSON}
    Environment:
      Variables: {TABLE_NAME: !Ref Table, ROLES_CLAIM: r, LOG_LEVEL: INFO, SECRET_PREFIX: !Sub "${AWS::StackName}/", REPORT_BUCKET: b, CONNECTSA_HOMOLOGATION_URL: h, CONNECTSA_PRODUCTION_URL: p}
Resources:
  Table: {Type: AWS::DynamoDB::Table}
  Api: {Type: AWS::Serverless::HttpApi}
  Bucket: {Type: AWS::S3::Bucket}
  BucketPolicy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !Ref Bucket
      PolicyDocument:
        Statement:
          - {Effect: Deny, Principal: "*", Action: "s3:*", Resource: [!GetAtt Bucket.Arn, !Sub "${Bucket.Arn}/*"], Condition: {Bool: {aws:SecureTransport: "false"}}}
  ParametersFunction:
    Type: AWS::Serverless::Function
    Metadata: {BuildMethod: go1.x}
    Properties:
      CodeUri: functions/parameters/
      Policies:
        - Statement:
            - {Effect: Allow, Action: [dynamodb:GetItem, dynamodb:Query], Resource: [!GetAtt Table.Arn, !Sub "${Table.Arn}/index/*"]}
            - {Effect: Allow, Action: [xray:PutTraceSegments], Resource: "*"}
      Events:
        Get: {Type: HttpApi, Properties: {ApiId: !Ref Api, Method: GET, Path: /parameters}}
  ParametersFunctionLogGroup:
    Type: AWS::Logs::LogGroup
    Properties: {LogGroupName: !Sub "/aws/lambda/${ParametersFunction}", RetentionInDays: 7}
  BillingRuleFunction:
    Type: AWS::Serverless::Function
    Metadata: {BuildMethod: go1.x}
    Properties:
      CodeUri: functions/billing-rule/
      Timeout: 900
      Policies:
        - Statement: {Effect: Allow, Action: dynamodb:PutItem, Resource: !GetAtt Table.Arn}
      Events:
        Daily: {Type: ScheduleV2, Properties: {ScheduleExpression: "cron(0 6 * * ? *)", ScheduleExpressionTimezone: America/Sao_Paulo}}
  BillingRuleFunctionLogGroup:
    Type: AWS::Logs::LogGroup
    Properties: {LogGroupName: !Sub "/aws/lambda/${BillingRuleFunction}", RetentionInDays: 7}
Outputs:
  Literal: {Value: !Sub "${!NotAVariable}-${AWS::Region}-${Stage}"}
  Local: {Value: !Sub ["${Name}-${Table}", {Name: !GetAtt ParametersFunctionRole.Arn}]}
`

func TestTemplateChecksCatchMistakes(t *testing.T) {
	checks := map[string]func(map[string]any) []string{
		"references": referenceProblems,
		"functions":  functionProblems,
		"policies":   policyProblems,
		"schedule":   scheduleProblems,
		"bucket": func(raw map[string]any) []string {
			if !hasTLSOnlyPolicy(asMap(raw["Resources"]), "Bucket") {
				return []string{"Bucket is not TLS-only"}
			}
			return nil
		},
	}
	tests := []struct {
		name, old, new, check, want string
	}{
		{"Ref to nothing", "!Ref Api", "!Ref Apy", "references", `Ref "Apy"`},
		{"GetAtt to nothing", "{Name: !GetAtt ParametersFunctionRole.Arn}", "{Name: !GetAtt Nothing.Arn}", "references", "GetAtt Nothing.Arn"},
		{"GetAtt unknown attribute", "Resource: [!GetAtt Table.Arn,", "Resource: [!GetAtt Table.ARN,", "references", `no attribute "ARN"`},
		{"Sub variable to nothing", "${AWS::StackName}/", "${StackName}/", "references", `Ref "StackName"`},
		{"Sub GetAtt to nothing", `"${Table.Arn}/index/*"`, `"${Tabel.Arn}/index/*"`, "references", "GetAtt Tabel.Arn"},
		{"unknown pseudo parameter", "${AWS::Region}", "${AWS::Zone}", "references", `Ref "AWS::Zone"`},

		{"runtime", "Runtime: provided.al2023", "Runtime: go1.x", "functions", "Runtime"},
		{"architecture", "Architectures: [arm64]", "Architectures: [x86_64]", "functions", "Architectures"},
		{"handler", "Handler: bootstrap", "Handler: main", "functions", "Handler"},
		{"tracing", "Tracing: Active", "Tracing: PassThrough", "functions", "Tracing"},
		{"text logs", "LogFormat: JSON", "LogFormat: Text", "functions", "LogFormat"},
		{"API timeout", "Timeout: 29", "Timeout: 60", "functions", "Timeout 60"},
		{"environment", "ROLES_CLAIM: r, ", "", "functions", "ROLES_CLAIM"},
		{"build method", "Metadata: {BuildMethod: go1.x}\n    Properties:\n      CodeUri: functions/parameters/", "Metadata: {BuildMethod: nodejs}\n    Properties:\n      CodeUri: functions/parameters/", "functions", "BuildMethod"},
		{"CodeUri outside functions/", "CodeUri: functions/parameters/", "CodeUri: src/parameters/", "functions", "CodeUri"},
		{"logical ID", "ParametersFunction:\n", "ParamsFunction:\n", "functions", "named ParametersFunction"},
		{"no log group", `"/aws/lambda/${ParametersFunction}", RetentionInDays: 7`, `"/aws/lambda/${ParametersFunction}"`, "functions", "ParametersFunction: no AWS::Logs::LogGroup"},

		{"wildcard action", "[dynamodb:GetItem, dynamodb:Query]", "[dynamodb:*]", "policies", `wildcard action "dynamodb:*"`},
		{"star action", "[dynamodb:GetItem, dynamodb:Query]", `["*"]`, "policies", `wildcard action "*"`},
		{"prefix wildcard action", "[dynamodb:GetItem, dynamodb:Query]", "[dynamodb:Get*]", "policies", "wildcard action"},
		{"Scan", "[dynamodb:GetItem, dynamodb:Query]", "[dynamodb:Scan]", "policies", `"dynamodb:Scan" is not allowed`},
		{"star resource", "Action: [xray:PutTraceSegments]", "Action: [s3:GetObject]", "policies", `Resource "*"`},
		{"another table", `Resource: !GetAtt Table.Arn}`, `Resource: "arn:aws:dynamodb:sa-east-1:1:table/other"}`, "policies", "not the table"},
		{"managed policy", "      Policies:\n        - Statement: {Effect: Allow, Action: dynamodb:PutItem, Resource: !GetAtt Table.Arn}", "      Policies:\n        - AmazonDynamoDBFullAccess", "policies", "not an inline policy"},
		{"policy template", "      Policies:\n        - Statement: {Effect: Allow, Action: dynamodb:PutItem, Resource: !GetAtt Table.Arn}", "      Policies:\n        - DynamoDBCrudPolicy: {TableName: !Ref Table}", "policies", "not an inline policy"},
		{"NotAction", "{Effect: Allow, Action: [xray:PutTraceSegments], Resource: \"*\"}", "{Effect: Allow, NotAction: [iam:*], Resource: \"*\"}", "policies", "NotAction"},

		{"schedule hour", "cron(0 6 * * ? *)", "cron(0 9 * * ? *)", "schedule", "ScheduleExpression"},
		{"schedule time zone", "America/Sao_Paulo", "UTC", "schedule", "ScheduleExpressionTimezone"},
		{"no schedule", "Type: ScheduleV2", "Type: Schedule", "schedule", "no ScheduleV2 event"},

		{"TLS policy allows", "{Effect: Deny, Principal", "{Effect: Allow, Principal", "bucket", "not TLS-only"},
		{"TLS policy misses objects", `!Sub "${Bucket.Arn}/*"`, `!Sub "${Bucket.Arn}/reports/*"`, "bucket", "not TLS-only"},
		{"TLS policy condition", `aws:SecureTransport: "false"`, `aws:SecureTransport: "true"`, "bucket", "not TLS-only"},
	}

	raw, err := rawTemplate([]byte(checkedTemplate))
	require.NoError(t, err)
	for name, check := range checks {
		assert.Empty(t, check(raw), "%s rejects the good template", name)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Contains(t, checkedTemplate, tt.old, "the case must change something")
			raw, err := rawTemplate([]byte(strings.Replace(checkedTemplate, tt.old, tt.new, 1)))
			require.NoError(t, err)
			problems := checks[tt.check](raw)
			assert.True(t, slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, tt.want) }),
				"want a problem containing %q, got %q", tt.want, problems)
		})
	}
}

func TestParseOverrides(t *testing.T) {
	got, err := parseOverrides(`Stage="dev" JwtAudience="a,b" Plain=x  Spaced="with space"`)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"Stage": "dev", "JwtAudience": "a,b", "Plain": "x", "Spaced": "with space"}, got)
	for _, bad := range []string{`Stage`, `Stage="dev`, `="x"`} {
		_, err := parseOverrides(bad)
		assert.Error(t, err, "%s", bad)
	}
}
