package httpx

import (
	"errors"
	"net/http"

	"github.com/workpulse/workpulse/services/platform/apierr"
)

// ErrorMap answers a transport-free layer's domain errors with envelope
// errors: the layer knows no codes or statuses, the service that serves it
// decides how each of its errors is answered.
type ErrorMap []struct {
	Domain error
	API    *apierr.Error
	// Reason answers with the domain error's own text as the message, for
	// a domain error that says what the client must know (which days a
	// lock covers).
	Reason bool
}

// Map returns the envelope error for err's domain error, or err itself when
// it is none of them.
func (m ErrorMap) Map(err error) error {
	for _, e := range m {
		if errors.Is(err, e.Domain) {
			if e.Reason {
				return e.API.WithMessage(err.Error())
			}
			return e.API
		}
	}
	return err
}

// Handle serves h, answering its error through mapErr in the envelope.
func Handle(mapErr func(error) error, h Handler) http.Handler {
	return Handler(func(w http.ResponseWriter, r *http.Request) error { return mapErr(h(w, r)) })
}
