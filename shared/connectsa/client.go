package connectsa

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"creditanalysis/shared/credit"
	"creditanalysis/shared/emf"
)

// Client talks to Connect SA. It is safe for concurrent use; build it once
// per cold start.
type Client struct {
	cfg      Config
	hc       *http.Client
	products map[string]credit.Plan // product code -> plan
}

var (
	_ credit.ConsultationBureau = (*Client)(nil)
	_ credit.PEFINRegistry      = (*Client)(nil)
	_ credit.BureauAccounts     = (*Client)(nil)
)

// New returns a client with cfg (zero fields take DefaultConfig's values)
// over hc; nil hc gets a pooled client of its own. Whatever hc says,
// redirects are never followed, so that credentials go nowhere else.
func New(cfg Config, hc *http.Client) *Client {
	cfg = cfg.withDefaults()
	var own http.Client
	if hc != nil {
		own = *hc
	} else {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = 64
		own.Transport = t
	}
	own.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	products := make(map[string]credit.Plan, len(cfg.ProductCodes))
	for plan, code := range cfg.ProductCodes {
		products[code] = plan
	}
	return &Client{cfg: cfg, hc: &own, products: products}
}

// retryPolicy says when a call may be sent again.
type retryPolicy int

const (
	// retryIfNotSent: only when the request provably never left (charged or
	// state-changing calls that are not idempotent).
	retryIfNotSent retryPolicy = iota
	// retryIdempotent: on network errors and 5xx too.
	retryIdempotent
)

const maxAttempts = 3

// call is one exchange with the partner.
type call struct {
	op         string
	path       string
	form       url.Values
	timeout    time.Duration
	retry      retryPolicy
	credential credit.CredentialKind // the password a refusal is about
	header     http.Header
	logAttrs   []slog.Attr
}

// do sends c and decodes the answer into out, mapping the partner's status
// codes to domain errors; it returns the raw body of a successful answer.
// A status code 3 (not found) is returned as errNotFound for the caller to
// name.
func (cl *Client) do(ctx context.Context, acct credit.BureauAccount, c call, out answer) ([]byte, error) {
	start := time.Now()
	base, err := cl.baseURL(acct.Environment)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	body := c.form.Encode()
	var raw []byte
	attempt := 0
	for {
		attempt++
		raw, err = cl.exchange(ctx, base+c.path, body, c.header)
		if err == nil {
			break
		}
		var te *transportError
		retry := errors.As(err, &te) && (te.notSent || (c.retry == retryIdempotent && te.retryable)) && ctx.Err() == nil
		if !retry || attempt >= maxAttempts || !sleep(ctx, backoff(attempt)) {
			cl.log(ctx, c, acct, start, attempt, err)
			return nil, cl.mapTransportError(ctx, err)
		}
		cl.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "bureau call retried", slog.String("op", c.op), slog.Int("attempt", attempt), slog.String("cause", err.Error()))
	}
	err = decode(raw, out, c.credential)
	cl.log(ctx, c, acct, start, attempt, err)
	return raw, err
}

func (cl *Client) baseURL(env credit.Environment) (string, error) {
	if !env.Valid() {
		var fe credit.FieldErrors
		fe.Add("environment", "deve ser homologation ou production")
		return "", fe.Err()
	}
	base := cl.cfg.BaseURLs[env]
	if base == "" {
		return "", credit.Internal(fmt.Errorf("no base URL for environment %s", env), "connectsa")
	}
	return strings.TrimRight(base, "/"), nil
}

// transportError is a failed exchange: notSent when the request provably
// never reached the partner, retryable when an idempotent call may be sent
// again.
type transportError struct {
	err       error
	notSent   bool
	retryable bool
	timeout   bool
	tooLarge  bool
}

func (e *transportError) Error() string { return e.err.Error() }
func (e *transportError) Unwrap() error { return e.err }

// exchange posts the form and reads the answer, bounded by MaxBodyBytes.
func (cl *Client) exchange(ctx context.Context, target, body string, header http.Header) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(body))
	if err != nil {
		return nil, &transportError{err: err}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := cl.hc.Do(req)
	if err != nil {
		return nil, &transportError{err: err, notSent: neverSent(err), retryable: true, timeout: ctx.Err() != nil}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, cl.cfg.MaxBodyBytes+1))
	if err != nil {
		return nil, &transportError{err: fmt.Errorf("read answer: %w", err), retryable: true, timeout: ctx.Err() != nil}
	}
	if int64(len(raw)) > cl.cfg.MaxBodyBytes {
		return nil, &transportError{err: fmt.Errorf("answer larger than %d bytes", cl.cfg.MaxBodyBytes), tooLarge: true}
	}
	if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
		return nil, &transportError{err: fmt.Errorf("HTTP %d", resp.StatusCode), retryable: true}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		// A 4xx may still carry the partner's status; without one it is the
		// partner's (or a proxy's) failure, not something to retry.
		var probe statusAnswer
		if json.Unmarshal(raw, &probe) == nil && probe.Status != nil && probe.Status.Code != nil {
			return raw, nil
		}
		return nil, &transportError{err: fmt.Errorf("HTTP %d", resp.StatusCode)}
	}
	return raw, nil
}

// neverSent reports whether err proves the request never reached the
// partner: the connection itself could not be made (DNS, refused,
// unreachable). Anything later may have been processed.
func neverSent(err error) bool {
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return true
	}
	var opErr *net.OpError
	return errors.As(err, &opErr) && opErr.Op == "dial"
}

func (cl *Client) mapTransportError(ctx context.Context, err error) error {
	var te *transportError
	if !errors.As(err, &te) {
		return err
	}
	switch {
	case te.tooLarge:
		return credit.BureauMalformedAnswer(err)
	case te.timeout || errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil:
		return credit.BureauTimeout(err)
	}
	return credit.BureauUnavailable(err)
}

// backoff is the pause before attempt+1: 100 ms, 200 ms ... with jitter, so
// that many clients do not retry in step.
func backoff(attempt int) time.Duration {
	d := 100 * time.Millisecond << (attempt - 1)
	return d/2 + rand.N(d/2+1)
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

var errNotFound = errors.New("record not found")

// decode parses raw into out and maps the partner's status to an error.
func decode(raw []byte, out answer, credential credit.CredentialKind) error {
	if err := json.Unmarshal(raw, out); err != nil {
		return credit.BureauMalformedAnswer(fmt.Errorf("decode answer: %w", err))
	}
	st := out.statusOf()
	if st == nil || st.Code == nil {
		return credit.BureauMalformedAnswer(errors.New("answer without status.codigoResposta"))
	}
	switch *st.Code {
	case codeOK:
		return nil
	case codeBadCredentials:
		return credit.BureauBadCredentials(credential)
	case codeRejected:
		return credit.BureauRejected(st.Message)
	case codeNotFound:
		return errNotFound
	case codeBureauError:
		return credit.BureauUnavailable(fmt.Errorf("bureau error: %s", truncate(st.Message, 200)))
	}
	return credit.BureauMalformedAnswer(fmt.Errorf("unknown codigoResposta %d", *st.Code))
}

func (cl *Client) log(ctx context.Context, c call, acct credit.BureauAccount, start time.Time, attempts int, err error) {
	cl.metrics(ctx, c.op, time.Since(start), err)
	level := slog.LevelDebug
	if !cl.cfg.Logger.Enabled(ctx, level) {
		return
	}
	attrs := append([]slog.Attr{
		slog.String("op", c.op),
		slog.String("environment", string(acct.Environment)),
		slog.Duration("duration", time.Since(start)),
		slog.Int("attempts", attempts),
		slog.String("code", credit.ErrorCode(err)),
	}, c.logAttrs...)
	cl.cfg.Logger.LogAttrs(ctx, level, "bureau call", attrs...)
}

// Outcomes of a bureau call in its metrics: answered, refused by the
// partner's rules (a business answer: not found, a wrong password, a
// rejected record), or failed (unreachable, timed out, 5xx, an answer that
// cannot be read): only the last counts towards the error rate.
const (
	OutcomeOK       = "ok"
	OutcomeRefused  = "refused"
	OutcomeFailed   = "failed"
	metricLatency   = "BureauLatency"
	metricCalls     = "BureauCalls"
	metricErrors    = "BureauErrors"
	dimensionOp     = "Operation"
	dimensionResult = "Outcome"
)

// Outcome classifies a call's error for the metrics.
func Outcome(err error) string {
	if err == nil {
		return OutcomeOK
	}
	switch credit.ErrorKind(err) {
	case credit.KindInternal, credit.KindBadGateway, credit.KindUnavailable:
		return OutcomeFailed
	}
	return OutcomeRefused
}

// metrics writes the call's EMF block: its latency by operation and
// outcome, and the calls and errors of the whole service, which the error
// rate alarm divides.
func (cl *Client) metrics(ctx context.Context, op string, took time.Duration, err error) {
	outcome := Outcome(err)
	failed := 0.0
	if outcome == OutcomeFailed {
		failed = 1
	}
	emf.Write(ctx, cl.cfg.Logger, emf.Block{
		Namespace: cl.cfg.MetricsNamespace,
		Dims:      map[string]string{dimensionOp: op, dimensionResult: outcome},
		Metrics: []emf.Metric{
			{Name: metricLatency, Unit: emf.Milliseconds, Value: float64(took.Microseconds()) / 1000},
			{Name: metricCalls, Unit: emf.Count, Value: 1},
			{Name: metricErrors, Unit: emf.Count, Value: failed},
		},
	})
}

// yesNo is the partner's boolean.
func yesNo(b bool) string {
	if b {
		return "S"
	}
	return "N"
}
