package connectsa

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"creditanalysis/shared/credit"
)

// Widths of the partner's inclusion layout, in characters. Longer text is
// cut to fit, as the bureau's own layout would, rather than refused.
const (
	widthName         = 70
	widthStreet       = 45
	widthNumber       = 10
	widthComplement   = 20
	widthNeighborhood = 20
	widthCity         = 25
	widthContract     = 30
)

// Include registers a debt (see credit.PEFINRegistry). The reference travels as
// referencia and as the Idempotency-Key header, which makes the call safe to
// retry.
func (cl *Client) Include(ctx context.Context, acct credit.BureauAccount, r credit.NegativationRequest) (credit.BureauRecord, error) {
	if err := r.Validate(); err != nil {
		return credit.BureauRecord{}, err
	}
	d, a := r.Debtor, r.Debtor.Address
	kind := "F"
	if d.Document.Kind() == credit.CNPJ {
		kind = "J"
	}
	birth := ""
	if !d.BirthDate.IsZero() {
		birth = d.BirthDate.Format(wireDate)
	}
	form := url.Values{
		"login":           {acct.Credentials.Login},
		"senhapefin":      {acct.Credentials.PEFINPassword},
		"referencia":      {r.Reference},
		"enviasms":        {yesNo(r.SendSMS)},
		"cpfresponsavel":  {r.ResponsibleCPF.Number()},
		"tipodocumento":   {kind},
		"documento":       {d.Document.Number()},
		"nome":            {fit(d.Name, widthName)},
		"datanascimento":  {birth},
		"sexo":            {genderCode(d.Gender)},
		"telefone":        {d.Phone},
		"logradouro":      {fit(a.Street, widthStreet)},
		"numero":          {fit(a.Number, widthNumber)},
		"complemento":     {fit(a.Complement, widthComplement)},
		"bairro":          {fit(a.Neighborhood, widthNeighborhood)},
		"cidade":          {fit(a.City, widthCity)},
		"uf":              {a.UF},
		"cep":             {a.CEP},
		"codigorestricao": {r.Debt.RestrictionCode},
		"contrato":        {fit(r.Debt.Contract, widthContract)},
		"numerodocumento": {fit(r.Debt.DocumentNumber, widthContract)},
		"datavencimento":  {r.Debt.DueDate.Format(wireDate)},
		"valor":           {r.Debt.Amount.Decimal()},
	}
	var out recordAnswer
	_, err := cl.do(ctx, acct, call{
		op: "include", path: pathInclude, form: form, timeout: cl.cfg.CallTimeout,
		retry: retryIdempotent, credential: credit.CredentialPEFIN,
		header:   http.Header{"Idempotency-Key": {r.Reference}},
		logAttrs: []slog.Attr{slog.String("reference", r.Reference), slog.String("debtor", d.Document.Masked())},
	}, &out)
	if errors.Is(err, errNotFound) {
		return credit.BureauRecord{}, credit.BureauMalformedAnswer(errors.New("inclusion answered record not found"))
	}
	if err != nil {
		return credit.BureauRecord{}, err
	}
	if out.Record == nil {
		return credit.BureauRecord{}, credit.BureauMalformedAnswer(errors.New("inclusion answer without registro"))
	}
	return toRecord(*out.Record, r.Reference)
}

// Remove takes a record off (see credit.PEFINRegistry); retried like an inclusion,
// since removing a removed record succeeds.
func (cl *Client) Remove(ctx context.Context, acct credit.BureauAccount, r credit.RemovalRequest) error {
	if err := r.Validate(); err != nil {
		return err
	}
	form := url.Values{
		"login":       {acct.Credentials.Login},
		"senhapefin":  {acct.Credentials.PEFINPassword},
		"referencia":  {r.Reference},
		"codigobaixa": {r.RemovalCode},
		"databaixa":   {r.Date.Format(wireDate)},
	}
	var out recordAnswer
	_, err := cl.do(ctx, acct, call{
		op: "remove", path: pathRemove, form: form, timeout: cl.cfg.CallTimeout,
		retry: retryIdempotent, credential: credit.CredentialPEFIN,
		logAttrs: []slog.Attr{slog.String("reference", r.Reference)},
	}, &out)
	if errors.Is(err, errNotFound) {
		return credit.BureauRecordNotFound(r.Reference)
	}
	if err != nil {
		return err
	}
	if out.Record != nil {
		if _, err := toRecord(*out.Record, r.Reference); err != nil {
			return err
		}
	}
	return nil
}

// Status reads records (see credit.PEFINRegistry), in calls of at most 100
// references.
func (cl *Client) Status(ctx context.Context, acct credit.BureauAccount, references []string) ([]credit.BureauRecord, error) {
	var fe credit.FieldErrors
	for _, ref := range references {
		if !credit.ValidBureauReference(ref) {
			fe.Add("references", "cada referência deve ter de 1 a 64 letras, dígitos, - ou _")
		}
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	records := make([]credit.BureauRecord, 0, len(references))
	for start := 0; start < len(references); start += maxStatusReferences {
		chunk := references[start:min(start+maxStatusReferences, len(references))]
		form := url.Values{
			"login":      {acct.Credentials.Login},
			"senhapefin": {acct.Credentials.PEFINPassword},
			"referencia": chunk,
		}
		var out recordsAnswer
		_, err := cl.do(ctx, acct, call{
			op: "status", path: pathStatus, form: form, timeout: cl.cfg.CallTimeout,
			retry: retryIdempotent, credential: credit.CredentialPEFIN,
			logAttrs: []slog.Attr{slog.Int("references", len(chunk))},
		}, &out)
		if errors.Is(err, errNotFound) {
			continue // none of the chunk is known
		}
		if err != nil {
			return nil, err
		}
		asked := make(map[string]bool, len(chunk))
		for _, ref := range chunk {
			asked[ref] = true
		}
		for _, w := range out.Records {
			if !asked[w.Reference] {
				return nil, credit.BureauMalformedAnswer(fmt.Errorf("status answered reference %q, not asked", truncate(w.Reference, 64)))
			}
			rec, err := toRecord(w, w.Reference)
			if err != nil {
				return nil, err
			}
			records = append(records, rec)
		}
	}
	return records, nil
}

// RestrictionCodes lists the partner's restriction codes.
func (cl *Client) RestrictionCodes(ctx context.Context, acct credit.BureauAccount) ([]credit.BureauCode, error) {
	return cl.codes(ctx, acct, "restricao")
}

// RemovalCodes lists the partner's removal codes.
func (cl *Client) RemovalCodes(ctx context.Context, acct credit.BureauAccount) ([]credit.BureauCode, error) {
	return cl.codes(ctx, acct, "baixa")
}

func (cl *Client) codes(ctx context.Context, acct credit.BureauAccount, kind string) ([]credit.BureauCode, error) {
	form := url.Values{
		"login":      {acct.Credentials.Login},
		"senhapefin": {acct.Credentials.PEFINPassword},
		"tipo":       {kind},
	}
	var out codesAnswer
	_, err := cl.do(ctx, acct, call{op: "codes-" + kind, path: pathCodes, form: form, timeout: cl.cfg.CallTimeout, retry: retryIdempotent, credential: credit.CredentialPEFIN}, &out)
	if errors.Is(err, errNotFound) {
		return []credit.BureauCode{}, nil
	}
	if err != nil {
		return nil, err
	}
	codes := make([]credit.BureauCode, 0, len(out.Codes))
	for _, c := range out.Codes {
		code := strings.TrimSpace(string(c.Code))
		if code == "" {
			return nil, credit.BureauMalformedAnswer(errors.New("code list entry without codigo"))
		}
		codes = append(codes, credit.BureauCode{Code: code, Description: strings.TrimSpace(c.Description)})
	}
	return codes, nil
}

var situations = map[string]credit.BureauRecordStatus{
	"PENDENTE":  credit.BureauRecordPending,
	"ATIVO":     credit.BureauRecordActive,
	"REJEITADO": credit.BureauRecordRejected,
	"BAIXADO":   credit.BureauRecordRemoved,
}

// toRecord converts a record, checking it is about the reference asked.
func toRecord(w wireRecord, reference string) (credit.BureauRecord, error) {
	if w.Reference != reference {
		return credit.BureauRecord{}, credit.BureauMalformedAnswer(fmt.Errorf("record about reference %q, asked %q", truncate(w.Reference, 64), reference))
	}
	status, ok := situations[strings.ToUpper(strings.TrimSpace(w.Situation))]
	if !ok {
		return credit.BureauRecord{}, credit.BureauMalformedAnswer(fmt.Errorf("unknown situacao %q", truncate(w.Situation, 32)))
	}
	rec := credit.BureauRecord{Reference: w.Reference, Protocol: strings.TrimSpace(string(w.Protocol)), Status: status, Message: strings.TrimSpace(w.Message)}
	if s := strings.TrimSpace(w.UpdatedAt); s != "" {
		t, err := time.ParseInLocation(wireTime, s, brasilia)
		if err != nil {
			return credit.BureauRecord{}, credit.BureauMalformedAnswer(fmt.Errorf("bad dataAtualizacao %q", truncate(s, 32)))
		}
		rec.UpdatedAt = t.UTC()
	}
	if rec.Protocol == "" {
		return credit.BureauRecord{}, credit.BureauMalformedAnswer(errors.New("record without protocolo"))
	}
	return rec, nil
}

func genderCode(g string) string {
	switch g {
	case "female":
		return "F"
	case "male":
		return "M"
	case "other":
		return "O"
	}
	return ""
}

// fit trims s and cuts it to n characters.
func fit(s string, n int) string {
	s = strings.TrimSpace(s)
	if r := []rune(s); len(r) > n {
		return strings.TrimSpace(string(r[:n]))
	}
	return s
}
