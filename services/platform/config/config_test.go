package config_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/workpulse/workpulse/services/platform/config"
)

func TestOriginsAreValidatedAndNormalised(t *testing.T) {
	cases := []struct {
		name, value string
		want        []string
		wantErr     string
	}{
		{name: "Unset is any origin.", want: []string{"*"}},
		{name: "A star is any origin.", value: " * ", want: []string{"*"}},
		{name: "A list is normalised to lower-case origins without a trailing slash.",
			value: "https://App.Example.com/, http://localhost:5173", want: []string{"https://app.example.com", "http://localhost:5173"}},
		{name: "A star among origins is refused.", value: "*,https://app.example.com", wantErr: "cannot be combined"},
		{name: "An origin with a path is refused.", value: "https://app.example.com/dashboard", wantErr: "is not an origin"},
		{name: "A bare host is refused.", value: "app.example.com", wantErr: "is not an origin"},
		{name: "Another scheme is refused.", value: "ftp://app.example.com", wantErr: "is not an origin"},
		{name: "Credentials in an origin are refused.", value: "https://u:p@app.example.com", wantErr: "is not an origin"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := config.FromMap(map[string]string{"CORS_ALLOWED_ORIGINS": c.value})
			got := e.Origins("CORS_ALLOWED_ORIGINS", []string{"*"})
			err := e.Err()
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) || !strings.Contains(err.Error(), "CORS_ALLOWED_ORIGINS") {
					t.Fatalf("error %v; want one naming CORS_ALLOWED_ORIGINS with %q", err, c.wantErr)
				}
				return
			}
			if err != nil || !slices.Equal(got, c.want) {
				t.Fatalf("got %q, %v; want %q", got, err, c.want)
			}
		})
	}
}

func TestALegacyJWTSecretTooShortToTrustStopsStartUpWithoutBeingShown(t *testing.T) {
	cases := []struct {
		name, value string
		wantErr     bool
	}{
		{"Unset leaves the replaced system's tokens refused.", "", false},
		{"Sixteen characters are accepted.", "0123456789abcdef", false},
		{"Fifteen characters are refused.", "0123456789abcde", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := config.FromMap(map[string]string{"LEGACY_JWT_SECRET": c.value})
			got := config.LoadCommon(e, "auth", ":0").LegacyJWTSecret
			err := e.Err()
			switch {
			case c.wantErr && (err == nil || !strings.Contains(err.Error(), "LEGACY_JWT_SECRET") || strings.Contains(err.Error(), c.value)):
				t.Fatalf("error %v; want one naming LEGACY_JWT_SECRET, not showing the secret", err)
			case !c.wantErr && (err != nil || got != c.value):
				t.Fatalf("got %q, %v; want %q", got, err, c.value)
			}
		})
	}
}

func TestATopicPrefixKafkaWouldRefuseStopsStartUp(t *testing.T) {
	cases := []struct {
		name, value string
		wantErr     bool
	}{
		{"Unset keeps the topic names of every installation before the prefix.", "", false},
		{"Letters, digits, dots, dashes and underscores are accepted.", "team-a.workpulse_eu.", false},
		{"A space is refused.", "team a.", true},
		{"A slash is refused.", "team/a.", true},
		{"Over 200 characters are refused.", strings.Repeat("a", 201), true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := config.FromMap(map[string]string{"KAFKA_TOPIC_PREFIX": c.value})
			got := config.LoadCommon(e, "ingest", ":0").KafkaTopicPrefix
			err := e.Err()
			switch {
			case c.wantErr && (err == nil || !strings.Contains(err.Error(), "KAFKA_TOPIC_PREFIX")):
				t.Fatalf("error %v; want one naming KAFKA_TOPIC_PREFIX", err)
			case !c.wantErr && (err != nil || got != c.value):
				t.Fatalf("got %q, %v; want %q", got, err, c.value)
			}
		})
	}
}
