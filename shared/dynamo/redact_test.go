package dynamo_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"creditanalysis/infra/localaws"
	"creditanalysis/shared/credit"
	"creditanalysis/shared/dynamo"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// echoingFault fails every call with DynamoDB's 500 InternalServerError
// whose message repeats the request, keys included, as the worst service
// error could.
type echoingFault struct{}

func (echoingFault) RoundTrip(r *http.Request) (*http.Response, error) {
	body, _ := io.ReadAll(r.Body)
	msg := strings.ReplaceAll(string(body), `"`, `'`)
	return &http.Response{StatusCode: 500, Header: http.Header{"Content-Type": {"application/x-amz-json-1.0"}},
		Body: io.NopCloser(strings.NewReader(`{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"` + msg + `"}`)), Request: r}, nil
}

// TestStoreFaultsNameNoDocument makes store calls whose keys carry a CPF
// or a CNPJ fail, logs the errors as the service does, and greps the log:
// the keys are named, the documents only masked.
func TestStoreFaultsNameNoDocument(t *testing.T) {
	client := dynamodb.NewFromConfig(localaws.Config(), func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String("http://127.0.0.1:1")
		o.HTTPClient = &http.Client{Transport: echoingFault{}}
		o.RetryMaxAttempts = 1
	})
	store := dynamo.New(client, "t")
	ctx := context.Background()
	cpf, cnpj := credit.MustParseDocument("529.982.247-25"), credit.MustParseDocument("11.222.333/0001-81")

	calls := map[string]func() error{
		"latest success of a CPF":   func() error { _, _, err := store.LastSucceededConsultation(ctx, cpf); return err },
		"latest success of a CNPJ":  func() error { _, _, err := store.LastSucceededConsultation(ctx, cnpj); return err },
		"a party whose id is a CPF": func() error { _, err := store.GetParty(ctx, credit.PartyCustomer, "52998224725"); return err },
		"a party whose id is a punctuated CNPJ": func() error {
			_, err := store.GetParty(ctx, credit.PartyLead, "11.222.333/0001-81")
			return err
		},
		"an invoice of a CPF customer": func() error { _, err := store.GetInvoice(ctx, "52998224725", "f-1"); return err },
		"consultations of a document": func() error {
			_, _, err := store.ListConsultations(ctx, credit.ConsultationFilter{Document: cpf}, credit.Page{})
			return err
		},
		"consultations of a CPF party": func() error {
			_, _, err := store.ListPartyConsultations(ctx, credit.PartyRef{Kind: credit.PartyCustomer, ID: "52998224725"}, credit.Page{})
			return err
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			var logs bytes.Buffer
			log := slog.New(slog.NewJSONHandler(&logs, nil))
			err := call()
			require.Error(t, err)
			var ce *credit.Error
			require.True(t, errors.As(err, &ce), "one error type")
			assert.Equal(t, credit.CodeInternal, ce.Code)
			log.Error("store failed", slog.String("error", err.Error()), slog.Any("cause", errors.Unwrap(err)))
			for _, full := range []string{"52998224725", "529.982.247-25", "11222333000181", "11.222.333/0001-81"} {
				assert.NotContains(t, logs.String(), full)
			}
			assert.Contains(t, err.Error(), "dynamo:", "the error still says where it failed")
		})
	}
}
