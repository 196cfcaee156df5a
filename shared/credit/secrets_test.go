package credit_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"

	"creditanalysis/shared/credit"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestIntegrationSecretsNeverRevealed(t *testing.T) {
	s := credit.IntegrationSecrets{ConsultationPassword: "Ab1@cdEf", PEFINPassword: "402918"}
	wrapped := struct{ S credit.IntegrationSecrets }{s}
	ptr := &s

	for _, tc := range []struct {
		name string
		out  string
	}{
		{"%v", fmt.Sprintf("%v", s)},
		{"%+v", fmt.Sprintf("%+v", s)},
		{"%#v", fmt.Sprintf("%#v", s)},
		{"%s", fmt.Sprintf("%s", s)},
		{"%q", fmt.Sprintf("%q", s)},
		{"%x", fmt.Sprintf("%x", s)},
		{"%d", fmt.Sprintf("%d", s)},
		{"pointer %v", fmt.Sprintf("%v", ptr)},
		{"pointer %+v", fmt.Sprintf("%+v", ptr)},
		{"nested %+v", fmt.Sprintf("%+v", wrapped)},
		{"nested %#v", fmt.Sprintf("%#v", wrapped)},
		{"Sprint", fmt.Sprint(s)},
		{"Sprintln", fmt.Sprintln(s, ptr)},
		{"error wrap", fmt.Errorf("rotate %v: %w", s, credit.SecretNotFound()).Error()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.NotContains(t, tc.out, "Ab1@cdEf")
			assert.NotContains(t, tc.out, "402918")
			assert.NotContains(t, tc.out, fmt.Sprintf("%x", "402918"))
			assert.Contains(t, tc.out, "***")
		})
	}
}

func TestIntegrationSecretsStringShowsWhichAreSet(t *testing.T) {
	for _, tc := range []struct {
		s    credit.IntegrationSecrets
		want string
	}{
		{credit.IntegrationSecrets{}, "{ConsultationPassword: PEFINPassword:}"},
		{credit.IntegrationSecrets{ConsultationPassword: "x"}, "{ConsultationPassword:*** PEFINPassword:}"},
		{credit.IntegrationSecrets{PEFINPassword: "x"}, "{ConsultationPassword: PEFINPassword:***}"},
	} {
		assert.Equal(t, tc.want, tc.s.String())
		assert.Equal(t, "credit.IntegrationSecrets"+tc.want, fmt.Sprintf("%#v", tc.s))
	}
}

func TestIntegrationSecretsLogValue(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	log.Info("loaded", "secrets", credit.IntegrationSecrets{ConsultationPassword: "Ab1@cdEf"})
	log.Info("loaded", slog.Any("secrets", &credit.IntegrationSecrets{PEFINPassword: "402918"}))

	out := buf.String()
	assert.NotContains(t, out, "Ab1@cdEf")
	assert.NotContains(t, out, "402918")

	var lines []map[string]any
	for _, line := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
		var m map[string]any
		require.NoError(t, json.Unmarshal(line, &m))
		lines = append(lines, m)
	}
	require.Len(t, lines, 2)
	assert.Equal(t, map[string]any{"consultationPasswordSet": true, "pefinPasswordSet": false}, lines[0]["secrets"])
	assert.Equal(t, map[string]any{"consultationPasswordSet": false, "pefinPasswordSet": true}, lines[1]["secrets"])
}

func TestIntegrationSecretsRefuseJSON(t *testing.T) {
	s := credit.IntegrationSecrets{ConsultationPassword: "Ab1@cdEf", PEFINPassword: "402918"}
	for name, v := range map[string]any{
		"value":   s,
		"pointer": &s,
		"nested":  struct{ Secrets credit.IntegrationSecrets }{s},
		"in map":  map[string]any{"s": s},
	} {
		t.Run(name, func(t *testing.T) {
			out, err := json.Marshal(v)
			require.ErrorIs(t, err, credit.ErrSecretsNotSerializable)
			assert.Empty(t, out)
			assert.NotContains(t, err.Error(), "402918")
		})
	}
}

func TestSecretStoreErrors(t *testing.T) {
	for _, tc := range []struct {
		err  error
		kind credit.Kind
		code string
	}{
		{credit.SecretNotFound(), credit.KindNotFound, credit.CodeSecretNotFound},
		{credit.SecretAlreadyExists(), credit.KindConflict, credit.CodeSecretAlreadyExists},
	} {
		assert.Equal(t, tc.kind, credit.ErrorKind(tc.err))
		assert.Equal(t, tc.code, credit.ErrorCode(tc.err))
		assert.NotEqual(t, credit.InternalMessage, credit.ErrorMessage(tc.err))
	}
}
