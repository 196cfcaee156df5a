package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"sync"

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
// one JSON value, no unknown fields, every key spelled exactly as its field
// (encoding/json alone matches case-insensitively), no duplicate keys,
// every field of the right type. Every refusal is a 4xx *credit.Error naming
// the problem, the field in details.fields as every validation error does.
func Decode(r *http.Request, v any) error {
	body, err := readBody(r, "application/json")
	if err != nil {
		return err
	}
	return DecodeBytes(body, v)
}

// MergePatchType is the media type of a JSON merge patch (RFC 7396).
const MergePatchType = "application/merge-patch+json"

// DecodeMergePatch is Decode for a JSON merge patch: the body may also be
// sent as application/merge-patch+json. It returns the body too, so that
// the caller can tell a member set to null (a removal) from one left out.
func DecodeMergePatch(r *http.Request, v any) ([]byte, error) {
	body, err := readBody(r, "application/json", MergePatchType)
	if err != nil {
		return nil, err
	}
	return body, DecodeBytes(body, v)
}

// readBody reads at most MaxBodyBytes of r's body, refusing a Content-Type
// other than the given media types (none is taken as the first).
func readBody(r *http.Request, mediaTypes ...string) ([]byte, error) {
	if ct := strings.ToLower(r.Header.Get("Content-Type")); ct != "" {
		ok := false
		for _, mt := range mediaTypes {
			ok = ok || strings.HasPrefix(ct, mt)
		}
		if !ok {
			return nil, credit.NewError(credit.KindInvalid, CodeUnsupportedMT,
				"O corpo da requisição deve ser JSON (Content-Type: "+strings.Join(mediaTypes, " ou ")+").")
		}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	if err != nil {
		return nil, credit.NewError(credit.KindInvalid, CodeInvalidJSON, "Não foi possível ler o corpo da requisição.").WithCause(err)
	}
	if len(body) > MaxBodyBytes {
		return nil, errBodyTooLarge
	}
	return body, nil
}

// nullMembers lists the members of the JSON object body, and of the objects
// nested in it ("automation.removalCode"), whose value is null. body must
// already have decoded.
func nullMembers(body []byte) []string {
	var walk func(prefix string, raw json.RawMessage) []string
	walk = func(prefix string, raw json.RawMessage) []string {
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			return nil
		}
		var out []string
		for k, v := range obj {
			switch t := bytes.TrimSpace(v); {
			case string(t) == "null":
				out = append(out, prefix+k)
			case len(t) > 0 && t[0] == '{':
				out = append(out, walk(prefix+k+".", t)...)
			}
		}
		sort.Strings(out)
		return out
	}
	return walk("", body)
}

var errBodyTooLarge = credit.NewError(KindTooLarge, CodeBodyTooLarge, "O corpo da requisição excede 64 KiB.")

// DecodeBytes is Decode for a body already read.
func DecodeBytes(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return credit.NewError(credit.KindInvalid, CodeInvalidJSON, "O corpo da requisição está vazio; envie um objeto JSON.")
	}
	if bytes.Equal(bytes.TrimSpace(body), []byte("null")) {
		// encoding/json would accept null as "nothing to set": a body that
		// is sent must be the object the route takes.
		return credit.NewError(credit.KindInvalid, CodeInvalidType, "O corpo da requisição deve ser um objeto JSON.")
	}
	if err := checkKeys(body, reflect.TypeOf(v)); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return credit.NewError(credit.KindInvalid, CodeInvalidJSON, "O corpo da requisição deve conter um único objeto JSON.")
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
		return fieldError(CodeInvalidType, "Tipo inválido", field, "esperado: "+jsonTypeName(typeErr.Type.String()))
	case errors.As(err, &syntaxErr), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return credit.NewError(credit.KindInvalid, CodeInvalidJSON, "JSON malformado.").WithCause(err)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return fieldError(CodeUnknownField, "Campo desconhecido", field, "não existe")
	}
	return credit.NewError(credit.KindInvalid, CodeInvalidJSON, "JSON inválido.").WithCause(err)
}

// fieldError is a refusal about one field, in the shape of every
// validation error: details.fields and details.reasons.
func fieldError(code, prefix, field, reason string) *credit.Error {
	var fe credit.FieldErrors
	fe.Add(field, reason)
	return fe.As(credit.KindInvalid, code, prefix)
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

// checkKeys walks the JSON tokens beside the target's Go type and refuses
// an object that names the same key twice (encoding/json would keep the
// last one) or a key that matches a field only when case is ignored
// ("BRANCHID" for branchId, which encoding/json would accept, so that
// {"branchId":"7","BRANCHID":"8"} set the branch to 8). On a syntax error it
// stops and leaves the report to the real decode.
func checkKeys(body []byte, target reflect.Type) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	err := walkJSON(dec, "", target)
	if errors.Is(err, errSyntax) {
		return nil
	}
	return err
}

// errSyntax stops the walk at the first malformed token: without it a
// malformed list ("[N") would never advance.
var errSyntax = errors.New("syntax")

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

// walkJSON reads one JSON value; typ is the Go type it decodes into, nil
// where that is not followed (an interface, a custom unmarshaler, an
// unknown field, which the decoder refuses by itself).
func walkJSON(dec *json.Decoder, path string, typ reflect.Type) error {
	for typ != nil && typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	if typ != nil && (reflect.PointerTo(typ).Implements(unmarshalerType) || typ.Kind() == reflect.Interface) {
		typ = nil
	}
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
		var fields map[string]reflect.Type
		var elem reflect.Type
		if typ != nil {
			switch typ.Kind() {
			case reflect.Struct:
				fields = jsonFields(typ)
			case reflect.Map:
				elem = typ.Elem()
			}
		}
		seen := map[string]bool{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return errSyntax
			}
			key, _ := kt.(string)
			field := strings.TrimPrefix(path+"."+key, ".")
			if seen[key] {
				return fieldError(CodeDuplicateKey, "Campo repetido", field, "aparece mais de uma vez")
			}
			seen[key] = true
			next := elem
			if fields != nil {
				var exact bool
				if next, exact = fields[key]; !exact {
					for name := range fields {
						if strings.EqualFold(name, key) {
							return fieldError(CodeUnknownField, "Campo desconhecido", field, fmt.Sprintf("o nome do campo é %q", name))
						}
					}
					// Named here with its whole path: the decoder would
					// name a nested one by its last part only.
					return fieldError(CodeUnknownField, "Campo desconhecido", field, "não existe")
				}
			}
			if err := walkJSON(dec, field, next); err != nil {
				return err
			}
		}
	case '[':
		var elem reflect.Type
		if typ != nil && (typ.Kind() == reflect.Slice || typ.Kind() == reflect.Array) {
			elem = typ.Elem()
		}
		for i := 0; dec.More(); i++ {
			if err := walkJSON(dec, fmt.Sprintf("%s[%d]", path, i), elem); err != nil {
				return err
			}
		}
	}
	if _, err := dec.Token(); err != nil {
		return errSyntax
	}
	return nil
}

var fieldCache sync.Map // reflect.Type -> map[string]reflect.Type

// jsonFields maps each JSON name a struct decodes to the field's type, with
// encoding/json's rules: the tag's name or the Go name, "-" skipped,
// unexported fields skipped, untagged embedded structs promoted.
func jsonFields(typ reflect.Type) map[string]reflect.Type {
	if f, ok := fieldCache.Load(typ); ok {
		return f.(map[string]reflect.Type)
	}
	fields := map[string]reflect.Type{}
	for i := range typ.NumField() {
		f := typ.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if f.Anonymous && name == "" && ft.Kind() == reflect.Struct {
			for n, t := range jsonFields(ft) {
				if _, own := fields[n]; !own {
					fields[n] = t
				}
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		fields[name] = f.Type
	}
	fieldCache.Store(typ, fields)
	return fields
}
