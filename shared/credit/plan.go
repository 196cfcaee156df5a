package credit

import "strings"

// Plan is the kind of report a consultation buys ("Plano para consultas").
// Each plan maps to one of the bureau's product codes in the bureau adapter's
// configuration; the domain only knows the plan.
type Plan string

const (
	// PlanNegativeIndicator is "Indicador de negativos": the restrictions
	// summary, without score. Deprecated by the partner.
	PlanNegativeIndicator Plan = "negative_indicator"
	// PlanCrednetTop is "Crednet Top". Deprecated by the partner.
	PlanCrednetTop Plan = "crednet_top"
	// PlanReportScore is "Relatório + Score": the full report with score,
	// the partner's recommended plan.
	PlanReportScore Plan = "report_score"
	// PlanAll is "Todos": valid only as an integration's default, where it
	// means the caller chooses the plan at consultation time. It can never be
	// consulted.
	PlanAll Plan = "all"
)

// Plans lists every plan, in the order the reference page shows them.
var Plans = []Plan{PlanNegativeIndicator, PlanCrednetTop, PlanReportScore, PlanAll}

// ConsultablePlans lists the plans a consultation can buy.
var ConsultablePlans = []Plan{PlanNegativeIndicator, PlanCrednetTop, PlanReportScore}

// DeprecatedPlanRecommendation is shown next to a deprecated plan, in the
// reference page's own words.
const DeprecatedPlanRecommendation = "É recomendado que utilize a nova consulta através do Relatório + Score."

// DeprecatedPlanWarning is the warning of a consultation made with a
// deprecated plan: one sentence, ending with the recommendation.
func DeprecatedPlanWarning(p Plan) string {
	return "O plano " + p.Name() + " será descontinuado em breve: é" + strings.TrimPrefix(DeprecatedPlanRecommendation, "É")
}

// Valid reports whether p is a known plan, "all" included.
func (p Plan) Valid() bool {
	switch p {
	case PlanNegativeIndicator, PlanCrednetTop, PlanReportScore, PlanAll:
		return true
	}
	return false
}

// Consultable reports whether a consultation can be made with p: every known
// plan except "all".
func (p Plan) Consultable() bool { return p.Valid() && p != PlanAll }

// Name is the plan's name as the reference page writes it.
func (p Plan) Name() string {
	switch p {
	case PlanNegativeIndicator:
		return "Indicador de negativos"
	case PlanCrednetTop:
		return "Crednet Top"
	case PlanReportScore:
		return "Relatório + Score"
	case PlanAll:
		return "Todos"
	}
	return string(p)
}

// Deprecated reports whether the partner announced the plan's end ("em breve
// descontinuados"). Deprecated plans still work.
func (p Plan) Deprecated() bool {
	return p == PlanNegativeIndicator || p == PlanCrednetTop
}

// Recommendation is the advice shown with a deprecated plan, empty for the
// others.
func (p Plan) Recommendation() string {
	if p.Deprecated() {
		return DeprecatedPlanRecommendation
	}
	return ""
}
