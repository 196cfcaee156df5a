package credit_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"creditanalysis/shared/credit"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCredentialsNeverPrintPasswords(t *testing.T) {
	c := credit.Credentials{Login: "isp01", ConsultationPassword: "Abc@1234", PEFINPassword: "135790"}
	acct := credit.BureauAccount{Environment: credit.EnvironmentProduction, Credentials: c}
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	log.Info("x", "credentials", c, "account", acct)
	log.Info("y", slog.Any("account", &acct))
	text := slog.New(slog.NewTextHandler(&logs, nil))
	text.Info("z", "credentials", c, "account", acct)
	outputs := []string{logs.String()}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d", "%T %v"} {
		outputs = append(outputs, fmt.Sprintf(verb, c), fmt.Sprintf(verb, acct), fmt.Sprintf(verb, []credit.Credentials{c}))
	}
	outputs = append(outputs, fmt.Sprintf("%v", struct{ A credit.BureauAccount }{acct}))
	for _, out := range outputs {
		assert.NotContains(t, out, "Abc@1234")
		assert.NotContains(t, out, "135790")
		assert.NotContains(t, out, strings.ToUpper(fmt.Sprintf("%x", "135790")))
		assert.NotContains(t, out, fmt.Sprintf("%x", "135790"))
	}
	assert.Contains(t, logs.String(), "isp01")
	assert.Contains(t, fmt.Sprint(c), "[redacted]")
	assert.Contains(t, fmt.Sprint(credit.Credentials{Login: "x"}), "[empty]")

	// encoding/json is how the secret store keeps them: it must see them.
	b, err := json.Marshal(c)
	require.NoError(t, err)
	var back credit.Credentials
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, c, back)
}

func TestEnvironment(t *testing.T) {
	assert.True(t, credit.EnvironmentHomologation.Valid())
	assert.True(t, credit.EnvironmentProduction.Valid())
	assert.False(t, credit.Environment("sandbox").Valid())
	assert.Equal(t, "Homologação", credit.EnvironmentHomologation.Name())
	assert.Equal(t, "Produção", credit.EnvironmentProduction.Name())
}

func TestBureauErrors(t *testing.T) {
	tests := []struct {
		err  *credit.Error
		kind credit.Kind
		code string
	}{
		{credit.BureauUnavailable(nil), credit.KindBadGateway, credit.CodeBureauUnavailable},
		{credit.BureauTimeout(nil), credit.KindBadGateway, credit.CodeBureauUnavailable},
		{credit.BureauRejected("CPF cancelado"), credit.KindUnprocessable, credit.CodeBureauRejected},
		{credit.BureauBadCredentials(credit.CredentialPEFIN), credit.KindUnprocessable, credit.CodeBureauBadCredentials},
		{credit.BureauMalformedAnswer(nil), credit.KindBadGateway, credit.CodeBureauMalformedAnswer},
		{credit.BureauRecordNotFound("n1"), credit.KindNotFound, credit.CodeBureauRecordNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			assert.Equal(t, tt.kind, tt.err.Kind)
			assert.Equal(t, tt.code, tt.err.Code)
			assert.NotEmpty(t, tt.err.Message)
		})
	}
	rejected := credit.BureauRejected("Documento\x00 com\n restrição  ")
	assert.Contains(t, rejected.Message, "Documento com restrição")
	assert.Equal(t, "Documento com restrição", rejected.Details["bureauMessage"])
	long := credit.BureauRejected(strings.Repeat("é", 10000))
	assert.Less(t, len([]rune(long.Details["bureauMessage"].(string))), 600)
	assert.Equal(t, "pefin", credit.BureauBadCredentials(credit.CredentialPEFIN).Details["credential"])
}

func validNegativation() credit.NegativationRequest {
	return credit.NegativationRequest{
		Reference:      "neg-01HZX",
		ResponsibleCPF: credit.MustParseDocument("52998224725"),
		Debtor: credit.Debtor{
			Document: credit.MustParseDocument("10000000108"), Name: "Fulano", BirthDate: day("1990-01-01"),
			Gender: "male", Phone: "11987654321",
			Address: credit.DebtorAddress{Street: "Rua A", Number: "1", Neighborhood: "Centro", City: "São Paulo", UF: "SP", CEP: "01001000"},
		},
		Debt: credit.Debt{RestrictionCode: "01", Contract: "C1", DocumentNumber: "F1", DueDate: day("2025-01-10"), Amount: 9990},
	}
}

func TestNegativationRequestValidate(t *testing.T) {
	require.NoError(t, validNegativation().Validate())
	tests := []struct {
		name   string
		change func(*credit.NegativationRequest)
		field  string
	}{
		{"no reference", func(r *credit.NegativationRequest) { r.Reference = "" }, "reference"},
		{"reference with spaces", func(r *credit.NegativationRequest) { r.Reference = "a b" }, "reference"},
		{"reference too long", func(r *credit.NegativationRequest) { r.Reference = strings.Repeat("a", 65) }, "reference"},
		{"responsible is a CNPJ", func(r *credit.NegativationRequest) { r.ResponsibleCPF = credit.MustParseDocument("11222333000181") }, "responsibleCpf"},
		{"no debtor document", func(r *credit.NegativationRequest) { r.Debtor.Document = credit.Document{} }, "debtor.document"},
		{"blank name", func(r *credit.NegativationRequest) { r.Debtor.Name = "  " }, "debtor.name"},
		{"CPF without birth date", func(r *credit.NegativationRequest) { r.Debtor.BirthDate = time.Time{} }, "debtor.birthDate"},
		{"unknown gender", func(r *credit.NegativationRequest) { r.Debtor.Gender = "x" }, "debtor.gender"},
		{"bad phone", func(r *credit.NegativationRequest) { r.Debtor.Phone = "123" }, "debtor.phone"},
		{"SMS without phone", func(r *credit.NegativationRequest) { r.SendSMS, r.Debtor.Phone = true, "" }, "debtor.phone"},
		{"bad UF", func(r *credit.NegativationRequest) { r.Debtor.Address.UF = "XX" }, "debtor.address.uf"},
		{"bad CEP", func(r *credit.NegativationRequest) { r.Debtor.Address.CEP = "0100-000" }, "debtor.address.cep"},
		{"no street", func(r *credit.NegativationRequest) { r.Debtor.Address.Street = "" }, "debtor.address.street"},
		{"no restriction code", func(r *credit.NegativationRequest) { r.Debt.RestrictionCode = "" }, "debt.restrictionCode"},
		{"no due date", func(r *credit.NegativationRequest) { r.Debt.DueDate = time.Time{} }, "debt.dueDate"},
		{"zero amount", func(r *credit.NegativationRequest) { r.Debt.Amount = 0 }, "debt.amount"},
		{"negative amount", func(r *credit.NegativationRequest) { r.Debt.Amount = -1 }, "debt.amount"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := validNegativation()
			tt.change(&r)
			err := r.Validate()
			require.Error(t, err)
			assert.Equal(t, credit.CodeValidation, credit.ErrorCode(err))
			e, _ := credit.AsError(err)
			assert.Equal(t, []string{tt.field}, e.Details["fields"])
		})
	}
	// Without SMS the phone may be missing.
	noSMS := validNegativation()
	noSMS.Debtor.Phone = ""
	assert.NoError(t, noSMS.Validate())
	// A CNPJ debtor needs no birth date.
	r := validNegativation()
	r.Debtor.Document = credit.MustParseDocument("11222333000181")
	r.Debtor.BirthDate = time.Time{}
	assert.NoError(t, r.Validate())
}

func TestConsultQueryValidate(t *testing.T) {
	cpf := credit.MustParseDocument("10000000108")
	cnpj := credit.MustParseDocument("11222333000181")
	tests := []struct {
		name   string
		q      credit.ConsultQuery
		fields []string
	}{
		{"CPF with UF", credit.ConsultQuery{Document: cpf, Plan: credit.PlanReportScore, UF: "SP"}, nil},
		{"CNPJ without UF", credit.ConsultQuery{Document: cnpj, Plan: credit.PlanCrednetTop}, nil},
		{"CPF without UF", credit.ConsultQuery{Document: cpf, Plan: credit.PlanReportScore}, []string{"uf"}},
		{"plan all", credit.ConsultQuery{Document: cnpj, Plan: credit.PlanAll}, []string{"plan"}},
		{"everything wrong", credit.ConsultQuery{Plan: "x", UF: "sp", CEP: "1", Phone: "abc"}, []string{"document", "plan", "uf", "cep", "phone"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.q.Validate()
			if tt.fields == nil {
				assert.NoError(t, err)
				return
			}
			e, ok := credit.AsError(err)
			require.True(t, ok)
			assert.Equal(t, tt.fields, e.Details["fields"])
		})
	}
}

func TestRemovalRequestValidate(t *testing.T) {
	assert.NoError(t, credit.RemovalRequest{Reference: "n1", RemovalCode: "1", Date: day("2025-01-01")}.Validate())
	e, ok := credit.AsError(credit.RemovalRequest{}.Validate())
	require.True(t, ok)
	assert.Equal(t, []string{"reference", "removalCode", "date"}, e.Details["fields"])
}

func TestBureauRecordStatus(t *testing.T) {
	for _, s := range []credit.BureauRecordStatus{credit.BureauRecordPending, credit.BureauRecordActive, credit.BureauRecordRejected, credit.BureauRecordRemoved} {
		assert.True(t, s.Valid(), s)
	}
	assert.False(t, credit.BureauRecordStatus("PENDENTE").Valid())
	assert.True(t, credit.CredentialCheck{Consultation: true, PEFIN: true}.OK())
	assert.False(t, credit.CredentialCheck{Consultation: true}.OK())
}
