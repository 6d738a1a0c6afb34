package sealbox

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"testing"
)

func newKey(t *testing.T) string {
	t.Helper()
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	return base64.StdEncoding.EncodeToString(raw)
}

func TestSealedSecrets(t *testing.T) {
	t.Parallel()
	old, cur := newKey(t), newKey(t)
	oldC, err := New(old, nil)
	if err != nil {
		t.Fatal(err)
	}
	rotated, err := New(cur, []string{old})
	if err != nil {
		t.Fatal(err)
	}
	other, err := New(newKey(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	secret := []byte("whsec_0123456789")
	var none *Cipher
	tests := []struct {
		name    string
		sealer  *Cipher
		opener  *Cipher
		ad      string
		fails   bool
		current bool
	}{
		{name: "A secret opens with the key that sealed it, as current.", sealer: rotated, opener: rotated, ad: "row-1", current: true},
		{name: "A secret sealed with a previous key opens, as not current, so it is resealed.", sealer: oldC, opener: rotated, ad: "row-1"},
		{name: "A secret moved to another row does not open.", sealer: rotated, opener: rotated, ad: "row-2", fails: true},
		{name: "A secret sealed with a key the cipher does not hold does not open.", sealer: other, opener: rotated, ad: "row-1", fails: true},
		{name: "A secret stored without a cipher opens with one, as not current.", sealer: none, opener: rotated, ad: "row-1"},
		{name: "A secret stored without a cipher opens without one, as current.", sealer: none, opener: none, ad: "row-1", current: true},
		{name: "A sealed secret does not open without a cipher.", sealer: rotated, opener: none, ad: "row-1", fails: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stored := tt.sealer.SealSecret("row-1", secret)
			if tt.sealer != nil && bytes.Contains(stored, secret) {
				t.Fatalf("the sealed value %q holds the secret", stored)
			}
			got, current, err := tt.opener.OpenSecret("the secret", tt.ad, stored)
			if (err != nil) != tt.fails {
				t.Fatalf("open: %v, want failure %v", err, tt.fails)
			}
			if err == nil && (!bytes.Equal(got, secret) || current != tt.current) {
				t.Errorf("opened %q current %v, want %q current %v", got, current, secret, tt.current)
			}
		})
	}
}

func TestNewRefusesKeysThatAreNot32Bytes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		current  string
		previous []string
	}{
		{name: "A current key that is not base64 is refused.", current: "not base64!"},
		{name: "A current key of 16 bytes is refused.", current: base64.StdEncoding.EncodeToString(make([]byte, 16))},
		{name: "A bad previous key is refused too.", current: newKey(t), previous: []string{"short"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.current, tt.previous); err == nil {
				t.Error("accepted")
			}
		})
	}
}
