package tracking

import (
	"errors"
	"testing"
)

func TestASessionIDMustBeACanonicalUUID(t *testing.T) {
	for _, tc := range []struct {
		name, id string
		ok       bool
	}{
		{"a canonical UUID names a session", "7c9e6679-7425-40de-944b-e07fc1f90ae7", true},
		{"a UUID without hyphens names none", "7c9e6679742540de944be07fc1f90ae7", false},
		{"a UUID in braces names none", "{7c9e6679-7425-40de-944b-e07fc1f90ae7}", false},
		{"an empty ID names none", "", false},
		{"a word names none", "active", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, err := ParseSessionID(tc.id)
			if tc.ok && (err != nil || id != tc.id) {
				t.Errorf("ParseSessionID(%q) = %q, %v", tc.id, id, err)
			}
			if !tc.ok && !errors.Is(err, ErrSessionNotFound) {
				t.Errorf("ParseSessionID(%q) = %v, want ErrSessionNotFound", tc.id, err)
			}
		})
	}
}

func TestATimestampErrorSaysWhyAndMatchesItsSentinel(t *testing.T) {
	err := InvalidTimestamp("end_time is before the session's start_time")
	if !errors.Is(err, ErrInvalidTimestamp) {
		t.Errorf("%v does not match ErrInvalidTimestamp", err)
	}
	if errors.Is(err, ErrSessionNotFound) {
		t.Errorf("%v matches ErrSessionNotFound", err)
	}
	var te *TimestampError
	if !errors.As(err, &te) || te.Reason != "end_time is before the session's start_time" {
		t.Errorf("reason lost: %v", err)
	}
}
