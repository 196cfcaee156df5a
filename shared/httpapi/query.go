package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"creditanalysis/shared/credit"
)

// PageOf reads limit (1..200) and cursor from the query string.
func PageOf(r *http.Request) (credit.Page, error) {
	q := r.URL.Query()
	p := credit.Page{Cursor: q.Get("cursor")}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > credit.MaxPageLimit {
			return credit.Page{}, invalidParam("limit", "deve ser um inteiro entre 1 e 200")
		}
		p.Limit = n
	}
	if len(p.Cursor) > 2048 {
		return credit.Page{}, credit.ErrInvalidCursor
	}
	return p.Normalized(), nil
}

// DateParam reads an optional YYYY-MM-DD query parameter.
func DateParam(r *http.Request, name string) (time.Time, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return time.Time{}, invalidParam(name, "deve ser uma data no formato AAAA-MM-DD")
	}
	return t, nil
}

// PathID reads and validates an identifier path parameter.
func PathID(r *http.Request, name string) (string, error) {
	v := r.PathValue(name)
	if !credit.ValidIdentifier(v) {
		return "", invalidParam(name, "identificador inválido")
	}
	return v, nil
}

func invalidParam(name, reason string) error {
	return credit.Errorf(credit.KindInvalid, CodeInvalidParameter, "Parâmetro %q inválido: %s.", name, reason).
		WithDetails(map[string]any{"parameter": name})
}
