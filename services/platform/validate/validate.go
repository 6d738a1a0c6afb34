// Package validate collects field errors into one VALIDATION_FAILED error,
// so that a client learns every problem of a request at once.
package validate

import (
	"net/mail"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/workpulse/workpulse/services/platform/apierr"
)

// Fields accumulates field errors; the zero value is ready to use.
type Fields struct{ list []apierr.FieldError }

// Add records that field breaks constraint.
func (v *Fields) Add(field, constraint string, value any) {
	v.list = append(v.list, apierr.FieldError{Field: field, Constraints: []string{constraint}, Value: value})
}

// Email requires a bare email address.
func (v *Fields) Email(field, s string) {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || len(s) > 254 {
		v.Add(field, "must be a valid email address", Echo(s))
	}
}

// Length requires between min and max characters; echo includes the value
// in the error (never for secrets).
func (v *Fields) Length(field, s string, min, max int, echo bool) {
	n := utf8.RuneCountInString(s)
	if n >= min && n <= max {
		return
	}
	var value any
	if echo {
		value = Echo(s)
	}
	v.Add(field, "must be between "+strconv.Itoa(min)+" and "+strconv.Itoa(max)+" characters", value)
}

// OneOf requires one of allowed.
func (v *Fields) OneOf(field, s string, allowed ...string) {
	for _, a := range allowed {
		if s == a {
			return
		}
	}
	v.Add(field, "must be one of "+strings.Join(allowed, ", "), Echo(s))
}

// IntRange requires min <= n <= max.
func (v *Fields) IntRange(field string, n, min, max int) {
	if n < min || n > max {
		v.Add(field, "must be from "+strconv.Itoa(min)+" to "+strconv.Itoa(max), n)
	}
}

// UUID requires a UUID.
func (v *Fields) UUID(field, s string) {
	if _, err := uuid.Parse(s); err != nil || len(s) != 36 {
		v.Add(field, "must be a UUID", Echo(s))
	}
}

// Err returns VALIDATION_FAILED with every recorded field, or nil.
func (v *Fields) Err() error {
	if len(v.list) == 0 {
		return nil
	}
	return apierr.Invalid(v.list...)
}

// Echo shortens a value for inclusion in an error.
func Echo(s string) string {
	if len(s) <= 64 {
		return s
	}
	cut := 64
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
