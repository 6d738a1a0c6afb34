package httpx

import "net/http"

// Validator is a request body that checks itself once decoded. Validate
// may also normalize the body (trim spaces, fill in defaults), so it
// usually has a pointer receiver; its error is shown to the client as it
// is (a VALIDATION_FAILED of validate.Fields, or a domain error).
type Validator interface{ Validate() error }

// DecodeBody decodes the request body strictly into a T (see Decode) and
// then, when *T is a Validator, validates it, so that every handler reads
// its body in one call and every body states its own rules. A body that
// does not decode is not validated.
func DecodeBody[T any](r *http.Request) (T, error) {
	var body T
	if err := Decode(r, &body); err != nil {
		return *new(T), err
	}
	if v, ok := any(&body).(Validator); ok {
		if err := v.Validate(); err != nil {
			return *new(T), err
		}
	}
	return body, nil
}
