package connectsa

import (
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"creditanalysis/shared/credit"
	"creditanalysis/shared/emf"
)

// Config is the adapter's configuration; DefaultConfig fills what is not
// specific to a deployment.
type Config struct {
	// BaseURLs maps each environment to the partner's base URL (scheme and
	// host, optionally a path prefix). An environment without a URL cannot be
	// called.
	BaseURLs map[credit.Environment]string
	// ProductCodes maps each consultable plan to the partner's product code
	// sent as "consulta".
	ProductCodes map[credit.Plan]string
	// ConsultTimeout bounds a consultation, retries included; it must leave
	// room inside API Gateway's 30 s for recording the result and the PDF.
	// A call also ends at its context's deadline, when that comes first.
	ConsultTimeout time.Duration
	// CallTimeout bounds every other call, retries included.
	CallTimeout time.Duration
	// MaxBodyBytes bounds an answer; a larger one is malformed.
	MaxBodyBytes int64
	// Logger receives one debug line per call and one metrics line (EMF:
	// latency by operation and outcome); slog.Default() when nil.
	Logger *slog.Logger
	// MetricsNamespace is the metrics' CloudWatch namespace;
	// emf.Namespace() when empty.
	MetricsNamespace string
}

// Defaults of DefaultConfig.
const (
	DefaultConsultTimeout = 20 * time.Second
	DefaultCallTimeout    = 10 * time.Second
	DefaultMaxBodyBytes   = 4 << 20
)

// DefaultProductCodes are the product codes of the partner's plans.
func DefaultProductCodes() map[credit.Plan]string {
	return map[credit.Plan]string{
		credit.PlanNegativeIndicator: "INDICADOR_NEGATIVOS",
		credit.PlanCrednetTop:        "CREDNET_TOP",
		credit.PlanReportScore:       "RELATORIO_SCORE",
	}
}

// DefaultConfig has no base URL: where the partner lives is configuration.
func DefaultConfig() Config {
	return Config{
		BaseURLs:       map[credit.Environment]string{},
		ProductCodes:   DefaultProductCodes(),
		ConsultTimeout: DefaultConsultTimeout,
		CallTimeout:    DefaultCallTimeout,
		MaxBodyBytes:   DefaultMaxBodyBytes,
	}
}

// ConfigFromEnv is DefaultConfig changed by the environment:
//
//	CONNECTSA_HOMOLOGATION_URL  base URL of the homologation environment
//	CONNECTSA_PRODUCTION_URL    base URL of production
//	CONNECTSA_CONSULT_TIMEOUT   Go duration, default 20s
//	CONNECTSA_CALL_TIMEOUT      Go duration, default 10s
//	CONNECTSA_MAX_BODY_BYTES    default 4194304
//	CONNECTSA_PRODUCT_CODES     plan=CODE pairs, comma-separated, e.g.
//	                            report_score=RELATORIO_SCORE,crednet_top=CREDNET_TOP
func ConfigFromEnv() (Config, error) {
	c := DefaultConfig()
	for env, name := range map[credit.Environment]string{
		credit.EnvironmentHomologation: "CONNECTSA_HOMOLOGATION_URL",
		credit.EnvironmentProduction:   "CONNECTSA_PRODUCTION_URL",
	} {
		if v := strings.TrimSpace(os.Getenv(name)); v != "" {
			if !strings.HasPrefix(v, "https://") && !strings.HasPrefix(v, "http://") {
				return c, fmt.Errorf("%s: want an http(s) URL, got %q", name, v)
			}
			c.BaseURLs[env] = strings.TrimRight(v, "/")
		}
	}
	for name, dst := range map[string]*time.Duration{"CONNECTSA_CONSULT_TIMEOUT": &c.ConsultTimeout, "CONNECTSA_CALL_TIMEOUT": &c.CallTimeout} {
		if v := os.Getenv(name); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return c, fmt.Errorf("%s: want a positive Go duration, got %q", name, v)
			}
			*dst = d
		}
	}
	if v := os.Getenv("CONNECTSA_MAX_BODY_BYTES"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1024 {
			return c, fmt.Errorf("CONNECTSA_MAX_BODY_BYTES: want at least 1024, got %q", v)
		}
		c.MaxBodyBytes = n
	}
	if v := os.Getenv("CONNECTSA_PRODUCT_CODES"); v != "" {
		for _, pair := range strings.Split(v, ",") {
			plan, code, ok := strings.Cut(strings.TrimSpace(pair), "=")
			if !ok || !credit.Plan(plan).Consultable() || code == "" {
				return c, fmt.Errorf("CONNECTSA_PRODUCT_CODES: want plan=CODE pairs with a consultable plan, got %q", pair)
			}
			c.ProductCodes[credit.Plan(plan)] = code
		}
	}
	return c, nil
}

// withDefaults fills zero fields from DefaultConfig.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.BaseURLs == nil {
		c.BaseURLs = d.BaseURLs
	}
	if c.ProductCodes == nil {
		c.ProductCodes = d.ProductCodes
	}
	if c.ConsultTimeout <= 0 {
		c.ConsultTimeout = d.ConsultTimeout
	}
	if c.CallTimeout <= 0 {
		c.CallTimeout = d.CallTimeout
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = d.MaxBodyBytes
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.MetricsNamespace == "" {
		c.MetricsNamespace = emf.Namespace()
	}
	return c
}
