package httpapi_test

import (
	"errors"
	"net/http"
	"testing"

	"creditanalysis/shared/credit"
	"creditanalysis/shared/httpapi"

	"github.com/stretchr/testify/assert"
)

func TestStatusOf(t *testing.T) {
	tests := []struct {
		kind credit.Kind
		want int
	}{
		{credit.KindInvalid, http.StatusBadRequest},
		{httpapi.KindUnauthorized, http.StatusUnauthorized},
		{credit.KindForbidden, http.StatusForbidden},
		{credit.KindNotFound, http.StatusNotFound},
		{httpapi.KindMethodNotAllowed, http.StatusMethodNotAllowed},
		{credit.KindConflict, http.StatusConflict},
		{httpapi.KindTooLarge, http.StatusRequestEntityTooLarge},
		{credit.KindUnprocessable, http.StatusUnprocessableEntity},
		{credit.KindInternal, http.StatusInternalServerError},
		{credit.KindBadGateway, http.StatusBadGateway},
		{credit.KindUnavailable, http.StatusServiceUnavailable},
		{credit.Kind("unheard_of"), http.StatusInternalServerError},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			assert.Equal(t, tt.want, httpapi.StatusOf(credit.NewError(tt.kind, "some_code", "m")))
		})
	}
	assert.Equal(t, http.StatusInternalServerError, httpapi.StatusOf(errors.New("plain")))
}
