package credit_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"creditanalysis/shared/credit"
	"creditanalysis/shared/memory"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// newIntegrationService wires the service on the memory stores, reaching
// the bureau through plans and accounts (either may be nil when a test
// makes no such call).
func newIntegrationService(plans credit.ConsultationBureau, accounts credit.BureauAccounts) (*credit.IntegrationService, *memory.Store, *memory.Secrets) {
	store, secrets := memory.New(), memory.NewSecrets()
	n := 0
	return &credit.IntegrationService{
		Store: store, Secrets: secrets, Bureau: &credit.BureauAccess{Secrets: secrets, Consultation: plans, Accounts: accounts},
		Now:   func() time.Time { return time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC) },
		NewID: func() string { n++; return fmt.Sprintf("int-%d", n) },
		Log:   slog.New(slog.NewJSONHandler(&bytes.Buffer{}, nil)),
	}, store, secrets
}

func validNewIntegration(branch string) credit.NewIntegration {
	return credit.NewIntegration{
		IntegrationSettings: credit.IntegrationSettings{
			Intermediary: credit.IntermediaryConnect, BranchID: branch, Environment: credit.EnvironmentHomologation,
			Login: "provedor", DefaultPlan: credit.PlanReportScore, SendSMSOnInclusion: true,
			ResponsibleCPF: "529.982.247-25",
			Automation:     credit.Automation{Enabled: true, RestrictionCode: "PEF01", RemovalCode: "BX01", DaysAfterDue: 30},
		},
		ConsultationPassword: "Abcd@123", PEFINPassword: "135790",
	}
}

func TestIntegrationServiceCreateValidation(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*credit.NewIntegration)
		fields []string
	}{
		{"valid", func(*credit.NewIntegration) {}, nil},
		{"automation off needs no codes", func(n *credit.NewIntegration) { n.Automation = credit.Automation{} }, nil},
		{"everything wrong", func(n *credit.NewIntegration) {
			*n = credit.NewIntegration{IntegrationSettings: credit.IntegrationSettings{
				Intermediary: "serasa", Environment: "test", DefaultPlan: "gold", ResponsibleCPF: "123",
				Automation: credit.Automation{Enabled: true, DaysAfterDue: 0},
			}}
		}, []string{"intermediary", "branchId", "environment", "login", "defaultPlan", "responsibleCpf",
			"automation.restrictionCode", "automation.removalCode", "automation.daysAfterDue", "consultationPassword", "pefinPassword"}},
		{"responsible must be a CPF, not a CNPJ", func(n *credit.NewIntegration) { n.ResponsibleCPF = "11.222.333/0001-81" }, []string{"responsibleCpf"}},
		{"daysAfterDue upper bound", func(n *credit.NewIntegration) { n.Automation.DaysAfterDue = 1826 }, []string{"automation.daysAfterDue"}},
		{"daysAfterDue 1825 is fine", func(n *credit.NewIntegration) { n.Automation.DaysAfterDue = 1825 }, nil},
		{"branch id with a slash", func(n *credit.NewIntegration) { n.BranchID = "a/b" }, []string{"branchId"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc, store, _ := newIntegrationService(nil, nil)
			req := validNewIntegration("7")
			tt.modify(&req)
			i, err := svc.Create(context.Background(), req)
			if tt.fields == nil {
				require.NoError(t, err)
				assert.Equal(t, "int-1", i.ID)
				return
			}
			require.Error(t, err)
			e, _ := credit.AsError(err)
			assert.Equal(t, credit.CodeValidation, e.Code)
			assert.ElementsMatch(t, tt.fields, e.Details["fields"])
			items, _, _ := store.ListIntegrations(context.Background(), credit.Page{})
			assert.Empty(t, items, "nothing is written on bad input")
		})
	}
}

func TestIntegrationServiceKeepsPasswordsInTheSecretStoreOnly(t *testing.T) {
	svc, store, secrets := newIntegrationService(nil, nil)
	ctx := context.Background()
	i, err := svc.Create(ctx, validNewIntegration("7"))
	require.NoError(t, err)
	require.NotEmpty(t, i.SecretRef)
	stored, err := store.GetIntegration(ctx, i.ID)
	require.NoError(t, err)
	assert.NotContains(t, fmt.Sprintf("%+v", stored), "Abcd@123")
	sec, err := secrets.Current(ctx, i.SecretRef)
	require.NoError(t, err)
	assert.Equal(t, "Abcd@123", sec.ConsultationPassword)
	assert.Equal(t, "135790", sec.PEFINPassword)
}

func TestIntegrationServiceSecondIntegrationForBranch(t *testing.T) {
	svc, _, secrets := newIntegrationService(nil, nil)
	ctx := context.Background()
	_, err := svc.Create(ctx, validNewIntegration("7"))
	require.NoError(t, err)
	_, err = svc.Create(ctx, validNewIntegration("7"))
	assert.Equal(t, credit.CodeBranchAlreadyIntegrated, credit.ErrorCode(err))
	assert.Equal(t, "Não foi possível prosseguir. A filial ID 7 já possui uma integração vinculada.", credit.ErrorMessage(err))
	_, err = secrets.Current(ctx, "int-2")
	assert.Error(t, err, "no secret is created for a refused integration")
}

func TestIntegrationServiceDeleteSchedulesSecretDeletion(t *testing.T) {
	svc, _, secrets := newIntegrationService(nil, nil)
	ctx := context.Background()
	i, err := svc.Create(ctx, validNewIntegration("7"))
	require.NoError(t, err)
	require.NoError(t, svc.Delete(ctx, i.ID))
	_, err = secrets.Current(ctx, i.SecretRef)
	assert.Equal(t, credit.CodeSecretNotFound, credit.ErrorCode(err))
	_, err = svc.Get(ctx, i.ID)
	assert.Equal(t, credit.KindNotFound, credit.ErrorKind(err))
}

func TestIntegrationServiceUpdateChangesSettingsOnly(t *testing.T) {
	svc, _, _ := newIntegrationService(nil, nil)
	ctx := credit.WithActor(context.Background(), credit.Actor{Subject: "admin-2", Name: "Outra Admin"})
	i, err := svc.Create(ctx, validNewIntegration("7"))
	require.NoError(t, err)
	set := validNewIntegration("8").IntegrationSettings
	set.Environment = credit.EnvironmentProduction
	u, err := svc.Update(ctx, i.ID, set)
	require.NoError(t, err)
	assert.Equal(t, "8", u.BranchID)
	assert.Equal(t, credit.EnvironmentProduction, u.Environment)
	assert.Equal(t, i.SecretRef, u.SecretRef)
	assert.Equal(t, "admin-2", u.UpdatedBy.Subject)

	set.ResponsibleCPF = "bad"
	_, err = svc.Update(ctx, i.ID, set)
	assert.Equal(t, credit.CodeValidation, credit.ErrorCode(err))
}

func TestIntegrationServiceConnectionTest(t *testing.T) {
	// The bureau holds consultation and pefin; the integration stores
	// Abcd@123 and 135790.
	tests := []struct {
		name                string
		consultation, pefin string
		err                 error
		ok                  bool
		message             string
	}{
		{"both accepted", "Abcd@123", "135790", nil, true, "Conexão estabelecida"},
		{"consultation refused", "Other@123", "135790", nil, false, "senha de consulta"},
		{"pefin refused", "Abcd@123", "975310", nil, false, "senha PEFIN"},
		{"both refused", "Other@123", "975310", nil, false, "senhas de consulta e PEFIN"},
		{"bureau down", "Abcd@123", "135790", credit.NewError(credit.KindBadGateway, credit.CodeBureauUnavailable, "O parceiro não respondeu."), false, "não respondeu"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bureau := &accountBureau{consultation: tt.consultation, pefin: tt.pefin, check: func() error { return tt.err }}
			svc, _, _ := newIntegrationService(nil, bureau)
			ctx := context.Background()
			i, err := svc.Create(ctx, validNewIntegration("7"))
			require.NoError(t, err)
			res, err := svc.TestConnection(ctx, i.ID)
			require.NoError(t, err)
			assert.Equal(t, tt.ok, res.OK)
			assert.Contains(t, res.Message, tt.message)
			seen := bureau.lastChecked()
			assert.Equal(t, "provedor", seen.Credentials.Login)
			assert.Equal(t, "Abcd@123", seen.Credentials.ConsultationPassword, "the bureau gets the stored password")
			assert.Equal(t, credit.EnvironmentHomologation, seen.Environment)
		})
	}
}

func TestIntegrationServicePlansMarkDeprecated(t *testing.T) {
	svc, _, _ := newIntegrationService(&consultBureau{offered: []credit.Plan{credit.PlanCrednetTop, credit.PlanReportScore}}, nil)
	ctx := context.Background()
	i, err := svc.Create(ctx, validNewIntegration("7"))
	require.NoError(t, err)
	plans, err := svc.Plans(ctx, i.ID)
	require.NoError(t, err)
	require.Len(t, plans, 2)
	assert.True(t, plans[0].Deprecated)
	assert.Equal(t, "Crednet Top", plans[0].Name)
	assert.Contains(t, plans[0].Recommendation, "Relatório + Score")
	assert.False(t, plans[1].Deprecated)
	assert.Empty(t, plans[1].Recommendation)
}

func TestIntegrationServiceCachesOfferedPlans(t *testing.T) {
	bureau := &consultBureau{offered: []credit.Plan{credit.PlanReportScore}}
	svc, _, _ := newIntegrationService(bureau, nil)
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	svc.Now = func() time.Time { return now }
	svc.Offered = &credit.PlanCache{}
	ctx := context.Background()
	i, err := svc.Create(ctx, validNewIntegration("7"))
	require.NoError(t, err)

	for k := 0; k < 3; k++ {
		plans, err := svc.OfferedPlans(ctx, i)
		require.NoError(t, err)
		require.Len(t, plans, 1)
	}
	assert.Equal(t, 1, bureau.planCalls(), "one bureau call per account within the TTL")
	now = now.Add(credit.PlansTTL + time.Second)
	_, err = svc.OfferedPlans(ctx, i)
	require.NoError(t, err)
	assert.Equal(t, 2, bureau.planCalls(), "asked again once the TTL passed")
}
