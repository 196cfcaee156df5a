package credit

import "context"

// Parameters are the service-wide settings ("Parâmetros gerais").
type Parameters struct {
	// CreditAnalysisEnabled is the master switch ("Utilizar integração de
	// análise de crédito"): while off, new consultations and inclusions are
	// refused; removals, the sync and the billing rule's removals go on, so
	// that a paid debt still comes off within 5 business days (STJ Súmula
	// 548).
	CreditAnalysisEnabled bool
	// RepeatConsultationIntervalDays ("Intervalo de dias para consultar o
	// mesmo CPF/CNPJ"): a second consultation of a document inside this many
	// days needs confirmation; 0 never asks.
	RepeatConsultationIntervalDays int
}

const MaxRepeatConsultationIntervalDays = 365

// CodeCreditAnalysisDisabled is answered while the master switch is off.
const CodeCreditAnalysisDisabled = "credit_analysis_disabled"

// Validate checks the parameters' ranges.
func (p Parameters) Validate() error {
	var fe FieldErrors
	if p.RepeatConsultationIntervalDays < 0 || p.RepeatConsultationIntervalDays > MaxRepeatConsultationIntervalDays {
		fe.Add("repeatConsultationIntervalDays", "deve ser um inteiro entre 0 e 365")
	}
	return fe.Err()
}

// ParametersStore keeps the parameters. GetParameters returns the zero value
// (switch off, interval 0) while nothing was stored. Errors: internal only.
type ParametersStore interface {
	GetParameters(ctx context.Context) (Parameters, error)
	PutParameters(ctx context.Context, p Parameters) error
}

// ParametersService reads and changes the parameters.
type ParametersService struct {
	Store ParametersStore
}

func (s *ParametersService) Get(ctx context.Context) (Parameters, error) {
	return s.Store.GetParameters(ctx)
}

// Put validates and stores p; nothing is written when p is invalid.
func (s *ParametersService) Put(ctx context.Context, p Parameters) (Parameters, error) {
	if err := p.Validate(); err != nil {
		return Parameters{}, err
	}
	if err := s.Store.PutParameters(ctx, p); err != nil {
		return Parameters{}, err
	}
	return p, nil
}

// RequireEnabled fails with 403 credit_analysis_disabled while the master
// switch is off. New consultations and inclusions call it first; removals
// and the sync never do.
func RequireEnabled(ctx context.Context, store ParametersStore) error {
	p, err := store.GetParameters(ctx)
	if err != nil {
		return err
	}
	return p.requireEnabled()
}

// requireEnabled is RequireEnabled on parameters already read.
func (p Parameters) requireEnabled() error {
	if !p.CreditAnalysisEnabled {
		return NewError(KindForbidden, CodeCreditAnalysisDisabled, "A integração de análise de crédito está desabilitada nos parâmetros gerais.")
	}
	return nil
}
