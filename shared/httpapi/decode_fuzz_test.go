package httpapi_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"creditanalysis/shared/credit"
	"creditanalysis/shared/httpapi"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fuzzTarget has the shapes request bodies have: strings, numbers, pointers,
// nested objects, lists.
type fuzzTarget struct {
	Name    string `json:"name"`
	Amount  *int64 `json:"amountCents"`
	Enabled *bool  `json:"enabled"`
	Nested  struct {
		UF   string `json:"uf"`
		Days int    `json:"days"`
	} `json:"nested"`
	Tags []string `json:"tags"`
}

// FuzzDecode feeds arbitrary bodies to the strict decoder: it must never
// panic, must refuse with a 4xx *credit.Error, and whatever it accepts must
// be one JSON object that encoding/json also accepts, without duplicate keys.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"name":"x","amountCents":1,"enabled":true,"nested":{"uf":"SP","days":3},"tags":["a"]}`,
		`{"name":"x","name":"y"}`, `{"nested":{"uf":"SP","uf":"RJ"}}`, `{"amountCents":"1"}`, `{"amountCents":1.5}`,
		`{"unknown":1}`, `{}`, `[]`, `null`, ``, `{"name":"x"} {}`, `{"name":"\u0000"}`, `{"tags":[{"a":1,"a":2}]}`,
		`{"name":"x"`, `"str"`, `{"amountCents":99999999999999999999}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var v fuzzTarget
		err := httpapi.DecodeBytes(body, &v)
		if err != nil {
			e, ok := credit.AsError(err)
			require.True(t, ok, "a refusal is a *credit.Error: %v", err)
			status := httpapi.StatusOf(e)
			assert.True(t, status >= 400 && status < 500, "refusals are 4xx, got %d for %q", status, body)
			return
		}
		var again fuzzTarget
		assert.NoError(t, json.Unmarshal(body, &again), "accepted %q", body)
		assert.Equal(t, v, again)
	})
}

// TestDecodeRefusesOversizedBodiesWithoutReadingThemAll shows the 64 KiB
// limit on a request whose Content-Length lies.
func TestDecodeRefusesOversizedBodiesWithoutReadingThemAll(t *testing.T) {
	big := bytes.Repeat([]byte(" "), httpapi.MaxBodyBytes+10)
	big = append([]byte(`{"name":"`), append(big, []byte(`"}`)...)...)
	r := httptest.NewRequest(http.MethodPut, "/x", bytes.NewReader(big))
	r.ContentLength = -1
	var v fuzzTarget
	err := httpapi.Decode(r, &v)
	assert.Equal(t, httpapi.CodeBodyTooLarge, credit.ErrorCode(err))
	assert.Equal(t, http.StatusRequestEntityTooLarge, httpapi.StatusOf(err))
}
