package samtemplate

import (
	"fmt"
	"reflect"
	"slices"
)

// The customer-managed key: one optional parameter, empty by default (the
// AWS-managed keys), and when given it encrypts every store of personal
// data or credentials, and only then may the functions use it.
const (
	KeyParameter = "KmsKeyArn"
	KeyCondition = "UsesCustomerKey"
)

// ifKey is {"Fn::If": [UsesCustomerKey, then, else]}.
func ifKey(then, els any) map[string]any {
	return map[string]any{"Fn::If": []any{KeyCondition, then, els}}
}

var (
	refKey   = map[string]any{"Ref": KeyParameter}
	noValue  = map[string]any{"Ref": "AWS::NoValue"}
	keyGrant = []any{"kms:Decrypt", "kms:GenerateDataKey"}
)

func same(a, b any) bool { return reflect.DeepEqual(a, b) }

// CustomerKeyProblems checks the customer-managed key: the parameter
// (default empty) and its condition; the table (SSE-KMS), every bucket
// (aws:kms) and every secret (KmsKeyId) on the key when it is given and on
// the AWS-managed keys otherwise; the secrets the functions create on it
// (SECRET_KMS_KEY_ID); and kms:Decrypt and kms:GenerateDataKey on that key
// alone, to every function's role, granted only under the condition.
func CustomerKeyProblems(raw map[string]any) []string {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	param := AsMap(Get(raw, "Parameters", KeyParameter))
	if param == nil {
		return []string{"Parameters." + KeyParameter + " is missing"}
	}
	if d, ok := param["Default"]; !ok || d != "" {
		add("Parameters.%s: Default must be empty (the AWS-managed keys)", KeyParameter)
	}
	wantCond := map[string]any{"Fn::Not": []any{map[string]any{"Fn::Equals": []any{refKey, ""}}}}
	if !same(Get(raw, "Conditions", KeyCondition), wantCond) {
		add("Conditions.%s must be !Not [!Equals [!Ref %s, \"\"]]", KeyCondition, KeyParameter)
	}
	res := AsMap(raw["Resources"])
	for _, id := range ResourcesOfType(raw, "AWS::DynamoDB::Table") {
		sse := AsMap(Get(res, id, "Properties", "SSESpecification"))
		if sse["SSEEnabled"] != true || !same(sse["SSEType"], ifKey("KMS", noValue)) || !same(sse["KMSMasterKeyId"], ifKey(refKey, noValue)) {
			add("%s.SSESpecification: SSE-KMS on the customer key when %s, else the AWS-managed key", id, KeyCondition)
		}
	}
	for _, id := range ResourcesOfType(raw, "AWS::S3::Bucket") {
		rules := List(Get(res, id, "Properties", "BucketEncryption", "ServerSideEncryptionConfiguration"))
		if len(rules) == 0 {
			add("%s: no BucketEncryption", id)
		}
		for _, r := range rules {
			def := AsMap(AsMap(r)["ServerSideEncryptionByDefault"])
			if !same(def["SSEAlgorithm"], ifKey("aws:kms", "AES256")) || !same(def["KMSMasterKeyID"], ifKey(refKey, noValue)) {
				add("%s: SSE-KMS on the customer key when %s, else AES256", id, KeyCondition)
			}
		}
	}
	for _, id := range ResourcesOfType(raw, "AWS::SecretsManager::Secret") {
		if !same(Get(res, id, "Properties", "KmsKeyId"), ifKey(refKey, noValue)) {
			add("%s.KmsKeyId: the customer key when %s", id, KeyCondition)
		}
	}
	if !same(Get(raw, "Globals", "Function", "Environment", "Variables", "SECRET_KMS_KEY_ID"), refKey) {
		add("Globals.Function.Environment.Variables.SECRET_KMS_KEY_ID must be !Ref %s: the integrations' secrets are created on it", KeyParameter)
	}

	// Who may use the key.
	granted := map[string]bool{}
	for _, id := range SortedKeys(res) {
		r := AsMap(res[id])
		var docs []any
		if r["Type"] == "AWS::Serverless::Function" {
			docs = List(Get(r, "Properties", "Policies"))
		} else {
			docs = []any{Get(r, "Properties", "PolicyDocument")}
		}
		for _, doc := range docs {
			for _, s := range List(AsMap(doc)["Statement"]) {
				st := AsMap(s)
				actions := List(st["Action"])
				if !slices.ContainsFunc(actions, func(a any) bool { s, _ := a.(string); return len(s) > 4 && s[:4] == "kms:" }) {
					continue
				}
				if r["Type"] != "AWS::IAM::Policy" || r["Condition"] != KeyCondition {
					add("%s grants KMS actions outside an AWS::IAM::Policy under Condition %s", id, KeyCondition)
					continue
				}
				if !same(actions, keyGrant) || !same(st["Resource"], refKey) {
					add("%s: grant exactly %v on !Ref %s", id, keyGrant, KeyParameter)
					continue
				}
				for _, role := range List(Get(r, "Properties", "Roles")) {
					granted[Str(AsMap(role)["Ref"])] = true
				}
			}
		}
	}
	for _, fn := range Functions(raw) {
		if !granted[fn.ID+"Role"] {
			add("%s: may not use the customer key (its role is not in the key's policy)", fn.ID)
		}
	}
	return problems
}

// ReservedConcurrency names the functions whose reserved concurrency is a
// stack parameter: the consultations (what a flood can cost at the
// bureau) and the billing rule (the runs' bureau rate).
var ReservedConcurrency = map[string]string{
	"ConsultationsFunction": "ConsultationsReservedConcurrency",
	"BillingRuleFunction":   "BillingRuleReservedConcurrency",
}

// ConcurrencyProblems checks that each function of ReservedConcurrency
// reserves the concurrency its Number parameter (at least 1) gives.
func ConcurrencyProblems(raw map[string]any) []string {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	for _, fn := range SortedKeys(ReservedConcurrency) {
		param := ReservedConcurrency[fn]
		p := AsMap(Get(raw, "Parameters", param))
		if p == nil || p["Type"] != "Number" || p["MinValue"] == nil {
			add("Parameters.%s: a Number with a MinValue", param)
		}
		if !same(Get(raw, "Resources", fn, "Properties", "ReservedConcurrentExecutions"), map[string]any{"Ref": param}) {
			add("%s.ReservedConcurrentExecutions must be !Ref %s", fn, param)
		}
	}
	return problems
}
