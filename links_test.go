package creditanalysis_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"creditanalysis/shared/app/allareas"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sdkServices are the AWS services the product calls, by the name both the
// SDK's package (github.com/aws/aws-sdk-go-v2/service/<name>) and the IAM
// actions (<name>:Action) use; iamPrefix names those whose actions use
// another.
var sdkServices = []string{"dynamodb", "eventbridge", "lambda", "s3", "secretsmanager"}

var iamPrefix = map[string]string{"events": "eventbridge"}

// calledWithoutClient are the services a function calls without linking
// the SDK's client: the billing rule hands a run over with one Lambda
// Invoke call, signed by shared/awslambda's Invoker, which spares every
// cold start the Lambda client's package initialisers.
var calledWithoutClient = map[string][]string{"billing-rule": {"lambda"}}

// functionLinks says, for each function, which of the product's heavier
// packages it links: the bureau client, and the PDF renderer. The AWS
// services it links come from its policy in the template.
var functionLinks = map[string]struct{ bureau, pdf bool }{
	"audit":         {},
	"parameters":    {},
	"parties":       {},
	"integrations":  {bureau: true},
	"passwords":     {bureau: true},
	"negativations": {bureau: true},
	"consultations": {bureau: true},
	"reports":       {pdf: true},
	"billing-rule":  {bureau: true},
	// Reads the table's stream (its images, through the DynamoDB types)
	// and writes to EventBridge.
	"event-publisher": {},
}

// neverLinked are packages no function may link: the wiring of every area
// at once, the test fakes, what runs the stack outside AWS, test libraries,
// and the SDK's shared-configuration loader, whose credential sources (STS,
// SSO, IMDS) Lambda never uses but every cold start would initialise.
var neverLinked = []string{
	"github.com/aws/aws-sdk-go-v2/config",
	"github.com/aws/aws-sdk-go-v2/service/sts",
	"github.com/aws/aws-sdk-go-v2/service/sso",
	"creditanalysis/shared/app/allareas",
	"creditanalysis/shared/memory",
	"creditanalysis/shared/credit/credittest",
	"creditanalysis/infra/",
	"github.com/stretchr/testify",
}

// TestFunctionsLinkOnlyWhatTheyUse holds each function's dependencies, as
// `go list -deps` sees them for Lambda's build, to what it uses: the AWS
// SDK clients of exactly the services its policy grants, the bureau client
// and the PDF renderer only where it calls them, and none of the packages
// that wire every area or serve the tests.
func TestFunctionsLinkOnlyWhatTheyUse(t *testing.T) {
	deps := functionDeps(t)
	granted := grantedServices(t)
	require.ElementsMatch(t, sortedKeys(functionLinks), sortedKeys(deps), "functions/ vs the table of what each links")
	require.ElementsMatch(t, sortedKeys(functionLinks), sortedKeys(granted), "template functions vs the table of what each links")

	for name, want := range functionLinks {
		t.Run(name, func(t *testing.T) {
			linked := deps[name]
			var services []string
			for _, s := range sdkServices {
				if linksUnder(linked, "github.com/aws/aws-sdk-go-v2/service/"+s) {
					services = append(services, s)
				}
			}
			var clients []string
			for _, s := range granted[name] {
				if !slices.Contains(calledWithoutClient[name], s) {
					clients = append(clients, s)
				}
			}
			assert.Equal(t, clients, services, "AWS SDK services linked vs granted by the template's policy")
			for _, s := range calledWithoutClient[name] {
				assert.Contains(t, granted[name], s, "a service called without its client is still granted")
			}
			assert.Equal(t, want.bureau, linksUnder(linked, "creditanalysis/shared/connectsa"), "links the bureau client")
			assert.Equal(t, want.pdf, linksUnder(linked, "github.com/go-pdf/fpdf"), "links the PDF renderer")
			for _, never := range neverLinked {
				assert.False(t, linksUnder(linked, strings.TrimSuffix(never, "/")), "links %s", never)
			}
		})
	}
}

// TestFunctionsAreEveryArea: the wiring of every area (local runner,
// tests) lists exactly the functions under functions/.
func TestFunctionsAreEveryArea(t *testing.T) {
	dirs, err := filepath.Glob("functions/*/main.go")
	require.NoError(t, err)
	var names []string
	for _, d := range dirs {
		names = append(names, filepath.Base(filepath.Dir(d)))
	}
	assert.ElementsMatch(t, names, append(sortedKeys(functionAreas()), allareas.Background...))
}

// linksUnder says whether deps holds pkg or a package under it.
func linksUnder(deps []string, pkg string) bool {
	return slices.ContainsFunc(deps, func(d string) bool { return d == pkg || strings.HasPrefix(d, pkg+"/") })
}

// functionDeps is each function's dependencies by function name, listed
// for Lambda's build (linux/arm64, no cgo, lambda.norpc).
func functionDeps(t *testing.T) map[string][]string {
	t.Helper()
	cmd := exec.Command("go", "list", "-tags", "lambda.norpc", "-json=ImportPath,Deps", "./functions/...")
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "go list: %s", stderr.String())
	deps := map[string][]string{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p struct {
			ImportPath string
			Deps       []string
		}
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else {
			require.NoError(t, err)
		}
		deps[path.Base(p.ImportPath)] = p.Deps
	}
	return deps
}

// grantedServices is, per function, which of sdkServices its policies
// allow actions of, sorted.
func grantedServices(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, fn := range functions(loadTemplate(t).raw) {
		seen := map[string]bool{}
		for _, p := range list(fn.Props["Policies"]) {
			for _, st := range list(asMap(p)["Statement"]) {
				s := asMap(st)
				if str(s["Effect"]) != "Allow" {
					continue
				}
				actions := list(s["Action"]) // one action or a list
				for _, a := range actions {
					service, _, _ := strings.Cut(str(a), ":")
					if sdk, ok := iamPrefix[service]; ok {
						service = sdk
					}
					if slices.Contains(sdkServices, service) {
						seen[service] = true
					}
				}
			}
		}
		services := sortedKeys(seen)
		sort.Strings(services)
		out[fn.Area] = services
	}
	return out
}
