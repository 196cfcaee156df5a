package samtemplate_test

import (
	"slices"
	"strings"
	"testing"

	"creditanalysis/infra/samtemplate"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

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
    Tracing: PassThrough
    LoggingConfig: {LogFormat: JSON}
    Environment:
      Variables: {TABLE_NAME: !Ref Table, ROLES_CLAIM: r, ROLE_GROUPS: g, BRANCHES_CLAIM: c, LOG_LEVEL: INFO, SECRET_PREFIX: !Sub "${AWS::StackName}/", PASSWORD_PEPPER_SECRET: pp, SECRET_KMS_KEY_ID: "", REPORT_BUCKET: b, CONNECTSA_HOMOLOGATION_URL: h, CONNECTSA_PRODUCTION_URL: p}
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

func TestChecksCatchMistakes(t *testing.T) {
	checks := map[string]func(map[string]any) []string{
		"references": samtemplate.ReferenceProblems,
		"functions":  samtemplate.FunctionProblems,
		"policies":   samtemplate.PolicyProblems,
		"schedule":   samtemplate.ScheduleProblems,
		"bucket": func(raw map[string]any) []string {
			if !samtemplate.HasTLSOnlyPolicy(samtemplate.AsMap(raw["Resources"]), "Bucket") {
				return []string{"Bucket is not TLS-only"}
			}
			return nil
		},
	}
	tests := []mutation{
		{"Ref to nothing", "!Ref Api", "!Ref Apy", "references", `Ref "Apy"`},
		{"GetAtt to nothing", "{Name: !GetAtt ParametersFunctionRole.Arn}", "{Name: !GetAtt Nothing.Arn}", "references", "GetAtt Nothing.Arn"},
		{"GetAtt unknown attribute", "Resource: [!GetAtt Table.Arn,", "Resource: [!GetAtt Table.ARN,", "references", `no attribute "ARN"`},
		{"Sub variable to nothing", "${AWS::StackName}/", "${StackName}/", "references", `Ref "StackName"`},
		{"Sub GetAtt to nothing", `"${Table.Arn}/index/*"`, `"${Tabel.Arn}/index/*"`, "references", "GetAtt Tabel.Arn"},
		{"unknown pseudo parameter", "${AWS::Region}", "${AWS::Zone}", "references", `Ref "AWS::Zone"`},

		{"runtime", "Runtime: provided.al2023", "Runtime: go1.x", "functions", "Runtime"},
		{"architecture", "Architectures: [arm64]", "Architectures: [x86_64]", "functions", "Architectures"},
		{"handler", "Handler: bootstrap", "Handler: main", "functions", "Handler"},
		{"tracing", "Tracing: PassThrough", "Tracing: Active", "functions", "Tracing"},
		{"text logs", "LogFormat: JSON", "LogFormat: Text", "functions", "LogFormat"},
		{"API timeout", "Timeout: 29", "Timeout: 60", "functions", "Timeout 60"},
		{"environment", "ROLES_CLAIM: r, ", "", "functions", "ROLES_CLAIM"},
		{"branches claim", "BRANCHES_CLAIM: c, ", "", "functions", "BRANCHES_CLAIM"},
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

	assertChecksCatch(t, checkedTemplate, checks, tests)
}

// mutation is a one-line edit of a good template and the problem the
// named check must then report.
type mutation struct {
	name, old, new, check, want string
}

// assertChecksCatch: every check passes the good template, and each
// mutation makes its check report the problem it names.
func assertChecksCatch(t *testing.T, good string, checks map[string]func(map[string]any) []string, tests []mutation) {
	t.Helper()
	raw, err := samtemplate.Parse([]byte(good))
	require.NoError(t, err)
	for name, check := range checks {
		assert.Empty(t, check(raw), "%s rejects the good template", name)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Contains(t, good, tt.old, "the case must change something")
			raw, err := samtemplate.Parse([]byte(strings.Replace(good, tt.old, tt.new, 1)))
			require.NoError(t, err)
			problems := checks[tt.check](raw)
			assert.True(t, slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, tt.want) }),
				"want a problem containing %q, got %q", tt.want, problems)
		})
	}
}

func TestParseOverrides(t *testing.T) {
	got, err := samtemplate.ParseOverrides(`Stage="dev" JwtAudience="a,b" Plain=x  Spaced="with space"`)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"Stage": "dev", "JwtAudience": "a,b", "Plain": "x", "Spaced": "with space"}, got)
	for _, bad := range []string{`Stage`, `Stage="dev`, `="x"`} {
		_, err := samtemplate.ParseOverrides(bad)
		assert.Error(t, err, "%s", bad)
	}
}

// rulesTemplate guards one parameter with each kind of rule function.
const rulesTemplate = `
Parameters:
  Stage: {Type: String, Default: dev}
  Issuer: {Type: String}
  Audience: {Type: CommaDelimitedList}
  Origins: {Type: CommaDelimitedList, Default: "http://localhost:5173"}
Rules:
  IssuerIsConfigured:
    Assertions:
      - Assert: {"Fn::Not": [{"Fn::Contains": [["https://CHANGEME"], {Ref: Issuer}]}]}
        AssertDescription: set the issuer
  AudienceIsConfigured:
    Assertions:
      - Assert: {"Fn::Not": [{"Fn::Contains": [{Ref: Audience}, CHANGEME]}]}
        AssertDescription: set the audience
  ProdOriginsAreKnown:
    RuleCondition: {"Fn::Equals": [{Ref: Stage}, prod]}
    Assertions:
      - Assert: {"Fn::EachMemberIn": [{Ref: Origins}, ["https://erp.example.com", "https://app.example.com"]]}
        AssertDescription: only the ERP's origins in prod
`

func TestFailingRules(t *testing.T) {
	raw, err := samtemplate.Parse([]byte(rulesTemplate))
	require.NoError(t, err)
	tests := []struct {
		name   string
		params map[string]string
		want   []string
	}{
		{"configured", map[string]string{"Issuer": "https://idp", "Audience": "a,b"}, nil},
		{"issuer placeholder", map[string]string{"Issuer": "https://CHANGEME", "Audience": "a"}, []string{"IssuerIsConfigured"}},
		{"audience placeholder among others", map[string]string{"Issuer": "https://idp", "Audience": "a,CHANGEME"}, []string{"AudienceIsConfigured"}},
		{"both", map[string]string{"Issuer": "https://CHANGEME", "Audience": "CHANGEME"}, []string{"AudienceIsConfigured", "IssuerIsConfigured"}},
		{"dev origins are not checked", map[string]string{"Issuer": "https://idp", "Audience": "a", "Origins": "*"}, nil},
		{"prod origin outside the list", map[string]string{"Stage": "prod", "Issuer": "https://idp", "Audience": "a", "Origins": "https://erp.example.com,*"}, []string{"ProdOriginsAreKnown"}},
		{"prod origins in the list", map[string]string{"Stage": "prod", "Issuer": "https://idp", "Audience": "a", "Origins": "https://erp.example.com"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := samtemplate.FailingRules(raw, tt.params)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}

	for name, broken := range map[string]string{
		"unknown function":  strings.Replace(rulesTemplate, `"Fn::Not"`, `"Fn::Nope"`, 1),
		"unknown parameter": strings.Replace(rulesTemplate, "{Ref: Issuer}", "{Ref: Isuer}", 1),
		"no description":    strings.Replace(rulesTemplate, "AssertDescription: set the issuer", "", 1),
	} {
		raw, err := samtemplate.Parse([]byte(broken))
		require.NoError(t, err)
		_, err = samtemplate.FailingRules(raw, map[string]string{"Issuer": "x", "Audience": "y"})
		assert.Error(t, err, name)
	}
}

// keyTemplate is a small template CustomerKeyProblems and
// ConcurrencyProblems accept.
const keyTemplate = `
Parameters:
  KmsKeyArn: {Type: String, Default: ""}
  ConsultationsReservedConcurrency: {Type: Number, Default: 20, MinValue: 1}
  BillingRuleReservedConcurrency: {Type: Number, Default: 3, MinValue: 1}
Conditions:
  UsesCustomerKey: !Not [!Equals [!Ref KmsKeyArn, ""]]
Globals:
  Function:
    Environment:
      Variables: {SECRET_KMS_KEY_ID: !Ref KmsKeyArn}
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      SSESpecification:
        SSEEnabled: true
        SSEType: !If [UsesCustomerKey, KMS, !Ref AWS::NoValue]
        KMSMasterKeyId: !If [UsesCustomerKey, !Ref KmsKeyArn, !Ref AWS::NoValue]
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketEncryption:
        ServerSideEncryptionConfiguration:
          - ServerSideEncryptionByDefault:
              SSEAlgorithm: !If [UsesCustomerKey, "aws:kms", AES256]
              KMSMasterKeyID: !If [UsesCustomerKey, !Ref KmsKeyArn, !Ref AWS::NoValue]
  Pepper:
    Type: AWS::SecretsManager::Secret
    Properties:
      KmsKeyId: !If [UsesCustomerKey, !Ref KmsKeyArn, !Ref AWS::NoValue]
      GenerateSecretString: {PasswordLength: 64}
  KeyPolicy:
    Type: AWS::IAM::Policy
    Condition: UsesCustomerKey
    Properties:
      PolicyName: k
      PolicyDocument:
        Statement:
          - {Effect: Allow, Action: [kms:Decrypt, kms:GenerateDataKey], Resource: !Ref KmsKeyArn}
      Roles: [!Ref ConsultationsFunctionRole, !Ref BillingRuleFunctionRole]
  ConsultationsFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/consultations/
      ReservedConcurrentExecutions: !Ref ConsultationsReservedConcurrency
      Policies:
        - Statement: {Effect: Allow, Action: dynamodb:PutItem, Resource: !GetAtt Table.Arn}
  BillingRuleFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/billing-rule/
      ReservedConcurrentExecutions: !Ref BillingRuleReservedConcurrency
      Policies:
        - Statement: {Effect: Allow, Action: dynamodb:PutItem, Resource: !GetAtt Table.Arn}
`

func TestKeyAndConcurrencyChecksCatchMistakes(t *testing.T) {
	checks := map[string]func(map[string]any) []string{
		"key":         samtemplate.CustomerKeyProblems,
		"concurrency": samtemplate.ConcurrencyProblems,
	}
	tests := []mutation{
		{"no key parameter", "  KmsKeyArn: {Type: String, Default: \"\"}\n", "", "key", "Parameters.KmsKeyArn is missing"},
		{"a default key", `KmsKeyArn: {Type: String, Default: ""}`, `KmsKeyArn: {Type: String, Default: "arn:aws:kms:sa-east-1:111122223333:key/x"}`, "key", "Default must be empty"},
		{"condition", `UsesCustomerKey: !Not [!Equals [!Ref KmsKeyArn, ""]]`, `UsesCustomerKey: !Equals [!Ref KmsKeyArn, ""]`, "key", "Conditions.UsesCustomerKey"},
		{"table on the AWS key always", "        SSEType: !If [UsesCustomerKey, KMS, !Ref AWS::NoValue]\n", "", "key", "Table.SSESpecification"},
		{"table on another key", "KMSMasterKeyId: !If [UsesCustomerKey, !Ref KmsKeyArn, !Ref AWS::NoValue]", "KMSMasterKeyId: alias/other", "key", "Table.SSESpecification"},
		{"bucket AES256 always", `SSEAlgorithm: !If [UsesCustomerKey, "aws:kms", AES256]`, "SSEAlgorithm: AES256", "key", "Bucket: SSE-KMS"},
		{"secret without the key", "      KmsKeyId: !If [UsesCustomerKey, !Ref KmsKeyArn, !Ref AWS::NoValue]\n", "", "key", "Pepper.KmsKeyId"},
		{"integrations' secrets without the key", "Variables: {SECRET_KMS_KEY_ID: !Ref KmsKeyArn}", "Variables: {}", "key", "SECRET_KMS_KEY_ID"},
		{"grant without the condition", "    Condition: UsesCustomerKey\n    Properties:\n      PolicyName: k", "    Properties:\n      PolicyName: k", "key", "KeyPolicy grants KMS actions outside"},
		{"grant on every key", "Resource: !Ref KmsKeyArn}", `Resource: "*"}`, "key", "grant exactly"},
		{"grant more", "[kms:Decrypt, kms:GenerateDataKey]", "[kms:Decrypt, kms:GenerateDataKey, kms:ScheduleKeyDeletion]", "key", "grant exactly"},
		{"grant in a function's own policy", "Statement: {Effect: Allow, Action: dynamodb:PutItem, Resource: !GetAtt Table.Arn}\n  BillingRuleFunction", "Statement: {Effect: Allow, Action: kms:Decrypt, Resource: !Ref KmsKeyArn}\n  BillingRuleFunction", "key", "ConsultationsFunction grants KMS actions outside"},
		{"a function left out", "[!Ref ConsultationsFunctionRole, !Ref BillingRuleFunctionRole]", "[!Ref ConsultationsFunctionRole]", "key", "BillingRuleFunction: may not use the customer key"},

		{"no reserved concurrency", "      ReservedConcurrentExecutions: !Ref ConsultationsReservedConcurrency\n", "", "concurrency", "ConsultationsFunction.ReservedConcurrentExecutions"},
		{"a fixed reserved concurrency", "ReservedConcurrentExecutions: !Ref BillingRuleReservedConcurrency", "ReservedConcurrentExecutions: 5", "concurrency", "BillingRuleFunction.ReservedConcurrentExecutions"},
		{"no parameter", "  BillingRuleReservedConcurrency: {Type: Number, Default: 3, MinValue: 1}\n", "", "concurrency", "Parameters.BillingRuleReservedConcurrency"},
		{"a parameter without a floor", "ConsultationsReservedConcurrency: {Type: Number, Default: 20, MinValue: 1}", "ConsultationsReservedConcurrency: {Type: Number, Default: 20}", "concurrency", "Parameters.ConsultationsReservedConcurrency"},
	}
	assertChecksCatch(t, keyTemplate, checks, tests)
}
