package httpapi_test

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"creditanalysis/shared/credit"
	"creditanalysis/shared/httpapi"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPageOf(t *testing.T) {
	tests := []struct {
		query    string
		want     credit.Page
		wantCode string
	}{
		{"", credit.Page{Limit: credit.DefaultPageLimit}, ""},
		{"limit=1", credit.Page{Limit: 1}, ""},
		{"limit=200&cursor=abc", credit.Page{Limit: 200, Cursor: "abc"}, ""},
		{"cursor=eyJQSyI6IngifQ%3D%3D", credit.Page{Limit: credit.DefaultPageLimit, Cursor: "eyJQSyI6IngifQ=="}, ""},
		{"limit=0", credit.Page{}, httpapi.CodeInvalidParameter},
		{"limit=201", credit.Page{}, httpapi.CodeInvalidParameter},
		{"limit=-5", credit.Page{}, httpapi.CodeInvalidParameter},
		{"limit=ten", credit.Page{}, httpapi.CodeInvalidParameter},
		{"limit=1.5", credit.Page{}, httpapi.CodeInvalidParameter},
		{"cursor=" + strings.Repeat("a", 2049), credit.Page{}, credit.CodeInvalidCursor},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			p, err := httpapi.PageOf(httptest.NewRequest("GET", "/x?"+tt.query, nil))
			if tt.wantCode != "" {
				assert.Equal(t, tt.wantCode, credit.ErrorCode(err))
				assert.Equal(t, 400, httpapi.StatusOf(err))
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, p)
		})
	}
}

func TestDateParam(t *testing.T) {
	tests := []struct {
		query    string
		want     time.Time
		wantCode string
	}{
		{"", time.Time{}, ""},
		{"from=2026-02-28", time.Date(2026, 2, 28, 0, 0, 0, 0, time.UTC), ""},
		{"from=2026-02-30", time.Time{}, httpapi.CodeInvalidParameter},
		{"from=28/02/2026", time.Time{}, httpapi.CodeInvalidParameter},
	}
	for _, tt := range tests {
		got, err := httpapi.DateParam(httptest.NewRequest("GET", "/x?"+tt.query, nil), "from")
		if tt.wantCode != "" {
			assert.Equal(t, tt.wantCode, credit.ErrorCode(err), tt.query)
			continue
		}
		require.NoError(t, err, tt.query)
		assert.True(t, tt.want.Equal(got), tt.query)
	}
}

func TestNewListNeverNull(t *testing.T) {
	tests := []struct {
		items []string
		next  string
		want  string
	}{
		{nil, "", `{"items":[],"nextCursor":null}`},
		{[]string{"a"}, "c2", `{"items":["a"],"nextCursor":"c2"}`},
	}
	for _, tt := range tests {
		w := httptest.NewRecorder()
		httpapi.WriteJSON(w, 200, httpapi.NewList(tt.items, tt.next))
		assert.JSONEq(t, tt.want, w.Body.String())
	}
}
