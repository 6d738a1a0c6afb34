package httpx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/workpulse/workpulse/services/platform/apierr"
)

// Decode reads the request body strictly into dst: JSON only, unknown
// fields refused, one value only, within the body size limit set by the
// BodyLimit middleware. An empty body decodes as {}.
func Decode(r *http.Request, dst any) error {
	body, err := ReadBody(r)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	return DecodeBytes(body, dst)
}

// ReadBody returns the raw JSON body, checking its media type, size and
// encoding.
func ReadBody(r *http.Request) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return nil, apierr.ErrUnsupportedMedia
		}
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, apierr.ErrBodyTooLarge.WithMessage(fmt.Sprintf("request body exceeds %d bytes", tooLarge.Limit))
		}
		return nil, apierr.ErrValidation.WithMessage("could not read request body")
	}
	if !utf8.Valid(body) {
		return nil, apierr.ErrValidation.WithMessage("request body is not valid UTF-8")
	}
	return body, nil
}

// DecodeBytes decodes one JSON value strictly into dst.
func DecodeBytes(body []byte, dst any) error {
	if err := checkDepth(body, maxJSONDepth); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	if dec.More() {
		return apierr.ErrValidation.WithMessage("request body must contain a single JSON value")
	}
	if _, err := dec.Token(); err != io.EOF {
		return apierr.ErrValidation.WithMessage("request body must contain a single JSON value")
	}
	return nil
}

const maxJSONDepth = 32

// checkDepth refuses deeply nested JSON before the decoder recurses into it.
func checkDepth(body []byte, max int) error {
	depth := 0
	inString, escaped := false, false
	for _, c := range body {
		switch {
		case escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case inString:
		case c == '{' || c == '[':
			depth++
			if depth > max {
				return apierr.ErrValidation.WithMessage(fmt.Sprintf("JSON nested deeper than %d levels", max))
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return nil
}

func decodeError(err error) error {
	var syntax *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return apierr.ErrValidation.WithMessage("malformed JSON")
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			field = "body"
		}
		return apierr.Invalid(apierr.FieldError{Field: field,
			Constraints: []string{"must be of type " + jsonTypeName(typeErr.Type.Kind().String())}})
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return apierr.Invalid(apierr.FieldError{Field: name, Constraints: []string{"is not an allowed field"}})
	}
	return apierr.ErrValidation.WithMessage("invalid request body")
}

func jsonTypeName(kind string) string {
	switch kind {
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "integer"
	case "float32", "float64":
		return "number"
	case "bool":
		return "boolean"
	case "slice", "array":
		return "array"
	case "struct", "map":
		return "object"
	}
	return kind
}
