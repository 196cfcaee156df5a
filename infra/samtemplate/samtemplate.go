// Package samtemplate reads a SAM template as a plain tree (intrinsic
// functions in long form) and typed through goformation, and checks what
// neither SAM nor cfn-lint checks for this service: every reference
// resolves, every function follows the house rules (runtime, architecture,
// JSON logs, a log group with retention, a build method), every IAM
// statement is least-privilege, the billing rule's schedule, the report
// bucket's TLS-only policy, and the Rules that refuse a half-configured
// deploy. Each check returns its problems as sentences, empty when the
// template is right.
package samtemplate

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/awslabs/goformation/v7"
	"github.com/awslabs/goformation/v7/cloudformation"
	"github.com/awslabs/goformation/v7/intrinsics"
)

// Template is a SAM template read twice: as a plain tree with intrinsic
// Functions kept in long form ({"Ref": X}, {"Fn::GetAtt": ...},
// {"Fn::Sub": ...}), for references, policies and the SAM properties, and
// typed through goformation, which also refuses misspelled properties.
type Template struct {
	Raw map[string]any
	CFN *cloudformation.Template
}

// goformationLacks lists SAM properties that goformation v7's generated
// schema does not know (its decoder refuses unknown fields). They are removed
// from the copy goformation parses and checked on the raw tree instead.
var goformationLacks = map[string][]string{
	"AWS::Serverless::Function": {"LoggingConfig", "RecursiveLoop", "RuntimeManagementConfig", "SnapStart"},
	"AWS::Serverless::HttpApi":  {"AccessLogSettings"},
}

// Load reads a SAM template file both ways.
func Load(path string) (*Template, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	raw, err := Parse(data)
	if err != nil {
		return nil, err
	}
	typed, err := deepCopy(raw)
	if err != nil {
		return nil, err
	}
	for _, res := range AsMap(typed["Resources"]) {
		res := AsMap(res)
		for _, prop := range goformationLacks[Str(res["Type"])] {
			delete(AsMap(res["Properties"]), prop)
		}
	}
	for _, prop := range goformationLacks["AWS::Serverless::Function"] {
		delete(AsMap(Get(typed, "Globals", "Function")), prop)
	}
	for _, prop := range goformationLacks["AWS::Serverless::HttpApi"] {
		delete(AsMap(Get(typed, "Globals", "HttpApi")), prop)
	}
	js, err := json.Marshal(typed)
	if err != nil {
		return nil, err
	}
	cfn, err := goformation.ParseJSON(js)
	if err != nil {
		return nil, fmt.Errorf("goformation refuses %s: %w", path, err)
	}
	return &Template{Raw: raw, CFN: cfn}, nil
}

// Parse reads YAML with the short-form tags (!Ref, !Sub, ...) turned into
// their long form and nothing resolved.
func Parse(data []byte) (map[string]any, error) {
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

func deepCopy(v map[string]any) (map[string]any, error) {
	js, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out map[string]any
	return out, json.Unmarshal(js, &out)
}

// ---- tree helpers

func AsMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func Str(v any) string {
	s, _ := v.(string)
	return s
}

func Get(v any, keys ...string) any {
	for _, k := range keys {
		v = AsMap(v)[k]
	}
	return v
}

// List returns v as a list: CloudFormation accepts a single item where a
// List is expected (Action, Resource, Statement, Policies).
func List(v any) []any {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		return x
	default:
		return []any{x}
	}
}

func SortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// ResourcesOfType returns the logical IDs of the resources of type typ.
func ResourcesOfType(raw map[string]any, typ string) []string {
	var ids []string
	for _, id := range SortedKeys(AsMap(raw["Resources"])) {
		if Str(Get(raw, "Resources", id, "Type")) == typ {
			ids = append(ids, id)
		}
	}
	return ids
}

// RefTarget returns X for {"Ref": X}.
func RefTarget(v any) string { return Str(AsMap(v)["Ref"]) }

// GetAttTarget returns (resource, attribute) for both GetAtt forms.
func GetAttTarget(v any) (string, string) {
	switch x := AsMap(v)["Fn::GetAtt"].(type) {
	case string:
		res, attr, _ := strings.Cut(x, ".")
		return res, attr
	case []any:
		if len(x) == 2 {
			return Str(x[0]), Str(x[1])
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
	"AWS::Events::EventBus":     {"Arn", "Name", "Policy"},
	"AWS::CloudWatch::Alarm":    {"Arn"},
}

var subVariable = regexp.MustCompile(`\$\{([^}]*)\}`)

// ReferenceProblems lists every Ref, GetAtt, Sub variable, DependsOn and
// Condition that names nothing in the template.
func ReferenceProblems(raw map[string]any) []string {
	params := AsMap(raw["Parameters"])
	resources := AsMap(raw["Resources"])
	conditions := AsMap(raw["Conditions"])
	// SAM creates <Function>Role for a function without a Role; the template
	// may refer to it.
	generated := map[string]string{}
	for _, fn := range ResourcesOfType(raw, "AWS::Serverless::Function") {
		if Get(raw, "Resources", fn, "Properties", "Role") == nil {
			generated[fn+"Role"] = "AWS::IAM::Role"
		}
		// A schedule's dead-letter queue of Type SQS is created by SAM
		// under its QueueLogicalId.
		for ev := range AsMap(Get(raw, "Resources", fn, "Properties", "Events")) {
			dlq := AsMap(Get(raw, "Resources", fn, "Properties", "Events", ev, "Properties", "DeadLetterConfig"))
			if id := Str(dlq["QueueLogicalId"]); id != "" && Str(dlq["Type"]) == "SQS" {
				generated[id] = "AWS::SQS::Queue"
			}
		}
	}
	typeOf := func(id string) (string, bool) {
		if r, ok := resources[id]; ok {
			return Str(AsMap(r)["Type"]), true
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
					checkRef(where, Str(x["Ref"]))
					return
				case x["Fn::GetAtt"] != nil:
					res, attr := GetAttTarget(x)
					checkGetAtt(where, res, attr)
					return
				case x["Fn::Sub"] != nil:
					switch sub := x["Fn::Sub"].(type) {
					case string:
						checkSub(where, sub, nil)
					case []any:
						if len(sub) == 2 {
							checkSub(where, Str(sub[0]), AsMap(sub[1]))
							walk(where, sub[1])
						}
					}
					return
				case x["Fn::If"] != nil:
					args := List(x["Fn::If"])
					if len(args) == 3 {
						if conditions[Str(args[0])] == nil {
							problems = append(problems, fmt.Sprintf("%s: Fn::If names no condition %q", where, args[0]))
						}
						walk(where, args[1:])
					}
					return
				}
			}
			for _, k := range SortedKeys(x) {
				walk(where+"."+k, x[k])
			}
		}
	}
	for _, section := range []string{"Globals", "Resources", "Outputs", "Conditions"} {
		walk(section, raw[section])
	}
	for _, id := range SortedKeys(resources) {
		res := AsMap(resources[id])
		for _, dep := range List(res["DependsOn"]) {
			if _, ok := typeOf(Str(dep)); !ok {
				problems = append(problems, fmt.Sprintf("Resources.%s.DependsOn: no resource %q", id, dep))
			}
		}
		if c := Str(res["Condition"]); c != "" && conditions[c] == nil {
			problems = append(problems, fmt.Sprintf("Resources.%s.Condition: no condition %q", id, c))
		}
	}
	return problems
}

// ---- functions

// Function is one AWS::Serverless::Function and the area it serves.
type Function struct {
	ID      string
	Area    string // from CodeUri functions/<area>/
	CodeURI string
	Props   map[string]any
}

var codeURIPattern = regexp.MustCompile(`^functions/([a-z0-9]+(?:-[a-z0-9]+)*)/?$`)

func Functions(raw map[string]any) []Function {
	var fns []Function
	for _, id := range ResourcesOfType(raw, "AWS::Serverless::Function") {
		props := AsMap(Get(raw, "Resources", id, "Properties"))
		uri := Str(props["CodeUri"])
		area := ""
		if m := codeURIPattern.FindStringSubmatch(uri); m != nil {
			area = m[1]
		}
		fns = append(fns, Function{ID: id, Area: area, CodeURI: uri, Props: props})
	}
	return fns
}

// Effective is a function property as SAM resolves it: the function's own
// value, else the Globals one.
func Effective(raw map[string]any, fn Function, key string) any {
	if v, ok := fn.Props[key]; ok {
		return v
	}
	return Get(raw, "Globals", "Function", key)
}

// LogicalIDFor is the function's expected logical ID: billing-rule ->
// BillingRuleFunction.
func LogicalIDFor(area string) string {
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
	"TABLE_NAME", "ROLES_CLAIM", "ROLE_GROUPS", "BRANCHES_CLAIM", "LOG_LEVEL", "SECRET_PREFIX", "PASSWORD_PEPPER_SECRET", "SECRET_KMS_KEY_ID", "REPORT_BUCKET",
	"CONNECTSA_HOMOLOGATION_URL", "CONNECTSA_PRODUCTION_URL",
}

// apiTimeoutSeconds is the most a function behind API Gateway may take:
// the gateway gives up after 30 s.
const apiTimeoutSeconds = 29

func FunctionProblems(raw map[string]any) []string {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	fns := Functions(raw)
	if len(fns) == 0 {
		add("no AWS::Serverless::Function")
	}
	for _, name := range requiredEnvironment {
		if Get(raw, "Globals", "Function", "Environment", "Variables", name) == nil {
			add("Globals.Function.Environment.Variables.%s is missing", name)
		}
	}
	logGroups := ResourcesOfType(raw, "AWS::Logs::LogGroup")
	for _, fn := range fns {
		if fn.Area == "" {
			add("%s: CodeUri %q is not functions/<area>/", fn.ID, fn.CodeURI)
		} else if want := LogicalIDFor(fn.Area); fn.ID != want {
			add("%s: a function for functions/%s/ is named %s", fn.ID, fn.Area, want)
		}
		for key, want := range map[string]any{"Runtime": "provided.al2023", "Handler": "bootstrap", "Tracing": "PassThrough"} {
			if got := Effective(raw, fn, key); got != want {
				add("%s: %s is %v, want %v", fn.ID, key, got, want)
			}
		}
		if arch := List(Effective(raw, fn, "Architectures")); len(arch) != 1 || arch[0] != "arm64" {
			add("%s: Architectures is %v, want [arm64]", fn.ID, arch)
		}
		if f := Str(Get(Effective(raw, fn, "LoggingConfig"), "LogFormat")); f != "JSON" {
			add("%s: LoggingConfig.LogFormat is %q, want JSON", fn.ID, f)
		}
		method := Str(Get(raw, "Resources", fn.ID, "Metadata", "BuildMethod"))
		if method != "go1.x" && method != "makefile" {
			add("%s: Metadata.BuildMethod is %q, want go1.x or makefile", fn.ID, method)
		}
		if len(HTTPEvents(fn)) > 0 && len(HTTPEvents(fn)) == len(AsMap(fn.Props["Events"])) {
			timeout, _ := Effective(raw, fn, "Timeout").(float64)
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
func hasLogGroup(raw map[string]any, fn Function, logGroups []string) bool {
	named := RefTarget(Get(fn.Props, "LoggingConfig", "LogGroup"))
	for _, lg := range logGroups {
		props := AsMap(Get(raw, "Resources", lg, "Properties"))
		if props["RetentionInDays"] == nil {
			continue
		}
		name := props["LogGroupName"]
		if named == "" && Str(AsMap(name)["Fn::Sub"]) == "/aws/lambda/${"+fn.ID+"}" {
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

// PolicyProblems checks every IAM statement in the template: no Allow with
// a wildcard action or NotAction, Resource "*" only for the actions AWS
// requires it for, DynamoDB actions only on the table and its indexes, and
// function policies written out (no managed policies or SAM policy
// templates, which grant more than a function uses). Deny statements may
// use wildcards: they only take away.
func PolicyProblems(raw map[string]any) []string {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	tables := ResourcesOfType(raw, "AWS::DynamoDB::Table")

	for _, fn := range Functions(raw) {
		for i, p := range List(fn.Props["Policies"]) {
			if AsMap(p)["Statement"] == nil {
				add("%s.Policies[%d]: %v is not an inline policy document; name the actions the function uses", fn.ID, i, p)
			}
		}
		if Get(raw, "Globals", "Function", "Policies") != nil {
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
				for i, s := range List(stmts) {
					for _, p := range statementProblems(AsMap(s), tables) {
						add("%s.Statement[%d]: %s", where, i, p)
					}
				}
				return
			}
			for _, k := range SortedKeys(x) {
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
	actions := List(s["Action"])
	resources := List(s["Resource"])
	onlyWildcardActions := len(actions) > 0
	usesDynamoDB := false
	for _, a := range actions {
		action := Str(a)
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

// isTableARN accepts !GetAtt Table.Arn, !GetAtt Table.StreamArn and
// !Sub "${Table.Arn}/index/...".
func isTableARN(r any, tables []string) bool {
	if res, attr := GetAttTarget(r); (attr == "Arn" || attr == "StreamArn") && slices.Contains(tables, res) {
		return true
	}
	sub := Str(AsMap(r)["Fn::Sub"])
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

func ScheduleProblems(raw map[string]any) []string {
	var problems []string
	for _, fn := range Functions(raw) {
		if fn.Area != "billing-rule" {
			continue
		}
		found := false
		for _, name := range SortedKeys(AsMap(fn.Props["Events"])) {
			ev := AsMap(AsMap(fn.Props["Events"])[name])
			if ev["Type"] != "ScheduleV2" {
				continue
			}
			found = true
			for key, want := range billingRuleSchedule {
				if got := Get(ev, "Properties", key); got != want {
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

// Route is one HttpApi event of a function.
type Route struct {
	Pattern string // "METHOD /path", as httpapi.Access keys it
	Public  bool   // Auth.Authorizer: NONE
	APIRef  string // the HttpApi its ApiId refers to
}

func HTTPEvents(fn Function) []Route {
	var routes []Route
	events := AsMap(fn.Props["Events"])
	for _, name := range SortedKeys(events) {
		ev := AsMap(events[name])
		if ev["Type"] != "HttpApi" {
			continue
		}
		p := AsMap(ev["Properties"])
		routes = append(routes, Route{
			Pattern: strings.ToUpper(Str(p["Method"])) + " " + Str(p["Path"]),
			Public:  Get(p, "Auth", "Authorizer") == "NONE",
			APIRef:  RefTarget(p["ApiId"]),
		})
	}
	return routes
}

func Patterns(routes []Route) []string {
	out := make([]string, 0, len(routes))
	for _, r := range routes {
		out = append(out, r.Pattern)
	}
	sort.Strings(out)
	return out
}

// HasTLSOnlyPolicy looks for a bucket policy on bucket that denies every
// request made without TLS.
func HasTLSOnlyPolicy(resources map[string]any, bucket string) bool {
	for _, id := range SortedKeys(resources) {
		res := AsMap(resources[id])
		props := AsMap(res["Properties"])
		if res["Type"] != "AWS::S3::BucketPolicy" || RefTarget(props["Bucket"]) != bucket {
			continue
		}
		for _, s := range List(Get(props, "PolicyDocument", "Statement")) {
			s := AsMap(s)
			secure := Get(s, "Condition", "Bool", "aws:SecureTransport")
			if s["Effect"] != "Deny" || (secure != "false" && secure != false) {
				continue
			}
			principal := s["Principal"]
			if principal != "*" && Get(principal, "AWS") != "*" {
				continue
			}
			onBucket, onObjects := false, false
			for _, r := range List(s["Resource"]) {
				if res, attr := GetAttTarget(r); res == bucket && attr == "Arn" {
					onBucket = true
				}
				if Str(AsMap(r)["Fn::Sub"]) == "${"+bucket+".Arn}/*" {
					onObjects = true
				}
			}
			if onBucket && onObjects && slices.ContainsFunc(List(s["Action"]), func(a any) bool { return a == "s3:*" }) {
				return true
			}
		}
	}
	return false
}

// ParseOverrides reads SAM's `Name=value Name2="quoted value"` form.
func ParseOverrides(s string) (map[string]string, error) {
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
