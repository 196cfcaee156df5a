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
			items, _, _ := store.ListIntegrations(context.Background(), nil, credit.Page{})
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

// staleStore answers every update as a store does when the record kept
// changing under it, after fn has run.
type staleStore struct{ *memory.Store }

func (s staleStore) UpdateIntegration(ctx context.Context, id string, fn func(*credit.Integration) error) (credit.Integration, error) {
	i, err := s.GetIntegration(ctx, id)
	if err != nil {
		return credit.Integration{}, err
	}
	if err := fn(&i); err != nil {
		return credit.Integration{}, err
	}
	return credit.Integration{}, credit.NewError(credit.KindConflict, credit.CodeConcurrentUpdate, "A integração foi alterada por outra requisição; tente novamente.")
}

func ptr[T any](v T) *T { return &v }

func TestIntegrationServicePatch(t *testing.T) {
	tests := []struct {
		name  string
		patch credit.IntegrationPatch
		// live puts a pending negativation on the integration first.
		live  bool
		stale bool
		// want changes a copy of the stored record into the expected one;
		// nil means the patch is refused with code (and fields).
		want   func(*credit.Integration)
		code   string
		fields []string
	}{
		{"one field changes, the rest stays", credit.IntegrationPatch{DefaultPlan: ptr(credit.PlanCrednetTop)}, false, false,
			func(i *credit.Integration) { i.DefaultPlan = credit.PlanCrednetTop }, "", nil},
		{"automation merges field by field", credit.IntegrationPatch{Automation: credit.AutomationPatch{DaysAfterDue: ptr(45)}}, false, false,
			func(i *credit.Integration) { i.Automation.DaysAfterDue = 45 }, "", nil},
		{"an empty patch changes nothing", credit.IntegrationPatch{}, false, false, func(*credit.Integration) {}, "", nil},
		{"the masked CPF as read means unchanged", credit.IntegrationPatch{ResponsibleCPF: ptr("***.982.247-**"), SendSMSOnInclusion: ptr(false)}, false, false,
			func(i *credit.Integration) { i.SendSMSOnInclusion = false }, "", nil},
		{"a new CPF replaces it", credit.IntegrationPatch{ResponsibleCPF: ptr("111.444.777-35")}, false, false,
			func(i *credit.Integration) { i.ResponsibleCPF = credit.MustParseDocument("111.444.777-35") }, "", nil},
		{"null clears a code while the automation is off",
			credit.IntegrationPatch{Automation: credit.AutomationPatch{Enabled: ptr(false)}, Removed: []string{"automation.removalCode"}}, false, false,
			func(i *credit.Integration) { i.Automation.Enabled, i.Automation.RemovalCode = false, "" }, "", nil},
		{"a field other than the account's changes under live negativations", credit.IntegrationPatch{DefaultPlan: ptr(credit.PlanAll)}, true, false,
			func(i *credit.Integration) { i.DefaultPlan = credit.PlanAll }, "", nil},

		{"another masked CPF is refused", credit.IntegrationPatch{ResponsibleCPF: ptr("***.444.777-**")}, false, false,
			nil, credit.CodeValidation, []string{"responsibleCpf"}},
		{"null on a required field is refused", credit.IntegrationPatch{Removed: []string{"login", "automation.daysAfterDue"}}, false, false,
			nil, credit.CodeValidation, []string{"login", "automation.daysAfterDue"}},
		{"null on a code the automation needs", credit.IntegrationPatch{Removed: []string{"automation.restrictionCode"}}, false, false,
			nil, credit.CodeValidation, []string{"automation.restrictionCode"}},
		{"the result is validated as a whole", credit.IntegrationPatch{Environment: ptr(credit.Environment("test")), Login: ptr("")}, false, false,
			nil, credit.CodeValidation, []string{"environment", "login"}},
		{"the account does not move under live negativations", credit.IntegrationPatch{Login: ptr("outro")}, true, false,
			nil, credit.CodeIntegrationHasActiveNegativation, nil},
		{"the branch rule holds", credit.IntegrationPatch{BranchID: ptr("8")}, false, false,
			nil, credit.CodeBranchAlreadyIntegrated, nil},
		{"a record that kept changing is a conflict", credit.IntegrationPatch{DefaultPlan: ptr(credit.PlanCrednetTop)}, false, true,
			nil, credit.CodeConcurrentUpdate, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc, store, _ := newIntegrationService(nil, nil)
			ctx := credit.WithActor(context.Background(), credit.Actor{Subject: "admin-2", Name: "Outra Admin"})
			before, err := svc.Create(context.Background(), validNewIntegration("7"))
			require.NoError(t, err)
			_, err = svc.Create(context.Background(), validNewIntegration("8"))
			require.NoError(t, err)
			if tt.live {
				require.NoError(t, store.CreateNegativation(ctx, credit.Negativation{
					ID: "neg-1", IntegrationID: before.ID, CustomerID: "cli-1", InvoiceID: "fat-1", Status: credit.NegativationPending,
				}))
			}
			if tt.stale {
				svc.Store = staleStore{store}
			}

			got, err := svc.Patch(ctx, before.ID, tt.patch)
			stored, gerr := store.GetIntegration(context.Background(), before.ID)
			require.NoError(t, gerr)
			if tt.want == nil {
				require.Error(t, err)
				assert.Equal(t, tt.code, credit.ErrorCode(err))
				if tt.fields != nil {
					e, _ := credit.AsError(err)
					assert.ElementsMatch(t, tt.fields, e.Details["fields"])
				}
				assert.Equal(t, before, stored, "nothing is written on a refusal")
				return
			}
			require.NoError(t, err)
			want := before
			tt.want(&want)
			want.Version++
			want.UpdatedBy = credit.Actor{Subject: "admin-2", Name: "Outra Admin"}
			assert.Equal(t, want, got)
			assert.Equal(t, want, stored)
		})
	}
}

func TestIntegrationServiceUpdateMaskedCPF(t *testing.T) {
	tests := []struct {
		name string
		cpf  string
		want string // the stored CPF after; "" means refused
	}{
		{"the masked CPF as read keeps it", "***.982.247-**", "52998224725"},
		{"a full CPF replaces it", "111.444.777-35", "11144477735"},
		{"another masked CPF is refused", "***.444.777-**", ""},
		{"a mask of the wrong shape is refused", "***982247**", ""},
		{"an invalid CPF is refused", "123", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc, store, _ := newIntegrationService(nil, nil)
			i, err := svc.Create(context.Background(), validNewIntegration("7"))
			require.NoError(t, err)
			set := validNewIntegration("7").IntegrationSettings
			set.Login = "outro-login"
			set.ResponsibleCPF = tt.cpf
			u, err := svc.Update(context.Background(), i.ID, set)
			stored, gerr := store.GetIntegration(context.Background(), i.ID)
			require.NoError(t, gerr)
			if tt.want == "" {
				e, ok := credit.AsError(err)
				require.True(t, ok, "%v", err)
				assert.Equal(t, credit.CodeValidation, e.Code)
				assert.Equal(t, []string{"responsibleCpf"}, e.Details["fields"])
				assert.Equal(t, i, stored, "nothing is written on a refusal")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, u.ResponsibleCPF.Number())
			assert.Equal(t, "outro-login", stored.Login)
			assert.Equal(t, tt.want, stored.ResponsibleCPF.Number())
		})
	}
}
