package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"creditanalysis/shared/credit"
)

// MaxBodyBytes is the largest request body accepted.
const MaxBodyBytes = 64 << 10

const (
	CodeUnknownField  = "unknown_field"
	CodeInvalidType   = "invalid_type"
	CodeDuplicateKey  = "duplicate_key"
	CodeUnsupportedMT = "unsupported_media_type"
)

// Decode reads r's JSON body into v strictly: at most MaxBodyBytes, exactly
// one JSON value, no unknown fields, no duplicate keys, every field of the
// right type. Every refusal is a 4xx *credit.Error naming the problem.
func Decode(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		return credit.NewError(credit.KindInvalid, CodeUnsupportedMT, "O corpo da requisição deve ser JSON (Content-Type: application/json).")
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	if err != nil {
		return credit.NewError(credit.KindInvalid, credit.CodeInvalidJSON, "Não foi possível ler o corpo da requisição.").WithCause(err)
	}
	if len(body) > MaxBodyBytes {
		return errBodyTooLarge
	}
	return DecodeBytes(body, v)
}

var errBodyTooLarge = credit.NewError(credit.KindTooLarge, credit.CodeBodyTooLarge, "O corpo da requisição excede 64 KiB.")

// DecodeBytes is Decode for a body already read.
func DecodeBytes(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return credit.NewError(credit.KindInvalid, credit.CodeInvalidJSON, "O corpo da requisição está vazio; envie um objeto JSON.")
	}
	if err := checkDuplicateKeys(body); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return credit.NewError(credit.KindInvalid, credit.CodeInvalidJSON, "O corpo da requisição deve conter um único objeto JSON.")
	}
	return nil
}

func decodeError(err error) error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	var domainErr *credit.Error
	switch {
	case errors.As(err, &domainErr):
		return domainErr
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			return credit.NewError(credit.KindInvalid, CodeInvalidType, "O corpo da requisição deve ser um objeto JSON.")
		}
		return credit.Errorf(credit.KindInvalid, CodeInvalidType, "O campo %q tem tipo inválido (esperado: %s).", field, jsonTypeName(typeErr.Type.String())).
			WithDetails(map[string]any{"field": field})
	case errors.As(err, &syntaxErr), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return credit.NewError(credit.KindInvalid, credit.CodeInvalidJSON, "JSON malformado.").WithCause(err)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return credit.Errorf(credit.KindInvalid, CodeUnknownField, "Campo desconhecido: %q.", field).
			WithDetails(map[string]any{"field": field})
	}
	return credit.NewError(credit.KindInvalid, credit.CodeInvalidJSON, "JSON inválido.").WithCause(err)
}

func jsonTypeName(goType string) string {
	switch {
	case strings.Contains(goType, "int"):
		return "inteiro"
	case strings.Contains(goType, "float"):
		return "número"
	case strings.Contains(goType, "bool"):
		return "booleano"
	case strings.Contains(goType, "string"):
		return "texto"
	case strings.HasPrefix(goType, "[]"):
		return "lista"
	}
	return "objeto"
}

// checkDuplicateKeys walks the JSON tokens and refuses an object that names
// the same key twice (encoding/json would silently keep the last one). On a
// syntax error it stops and leaves the report to the real decode.
func checkDuplicateKeys(body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	err := walkJSON(dec, "")
	if errors.Is(err, errSyntax) {
		return nil
	}
	return err
}

// errSyntax stops the walk at the first malformed token: without it a
// malformed list ("[N") would never advance.
var errSyntax = errors.New("syntax")

func walkJSON(dec *json.Decoder, path string) error {
	tok, err := dec.Token()
	if err != nil {
		return errSyntax
	}
	delim, ok := tok.(json.Delim)
	if !ok {
		return nil
	}
	switch delim {
	case '{':
		seen := map[string]bool{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return errSyntax
			}
			key, _ := kt.(string)
			if seen[key] {
				field := strings.TrimPrefix(path+"."+key, ".")
				return credit.Errorf(credit.KindInvalid, CodeDuplicateKey, "O campo %q aparece mais de uma vez.", field).
					WithDetails(map[string]any{"field": field})
			}
			seen[key] = true
			if err := walkJSON(dec, path+"."+key); err != nil {
				return err
			}
		}
	case '[':
		for i := 0; dec.More(); i++ {
			if err := walkJSON(dec, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	}
	if _, err := dec.Token(); err != nil {
		return errSyntax
	}
	return nil
}
