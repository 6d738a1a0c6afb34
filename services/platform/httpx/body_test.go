package httpx_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/workpulse/workpulse/services/platform/apierr"
	"github.com/workpulse/workpulse/services/platform/httpx"
	"github.com/workpulse/workpulse/services/platform/validate"
)

// greeting trims its name, defaults its count and requires a name.
type greeting struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
}

func (g *greeting) Validate() error {
	g.Name = strings.TrimSpace(g.Name)
	if g.Count == 0 {
		g.Count = 1
	}
	var v validate.Fields
	v.Length("name", g.Name, 1, 20, true)
	return v.Err()
}

func postJSON(body string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	return r
}

func TestDecodeBodyDecodesThenValidates(t *testing.T) {
	cases := []struct {
		name      string
		body      string
		want      greeting
		wantField string
		wantCode  string
	}{
		{"A valid body is returned as its Validate normalized it.", `{"name":"  Ada "}`, greeting{Name: "Ada", Count: 1}, "", ""},
		{"A body its Validate refuses fails with that error.", `{"name":"   ","count":3}`, greeting{}, "name", "VALIDATION_FAILED"},
		{"A body that does not decode fails before it is validated.", `{"name":"Ada","nmae":"typo"}`, greeting{}, "nmae", "VALIDATION_FAILED"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := httpx.DecodeBody[greeting](postJSON(c.body))
			if got != c.want {
				t.Errorf("got %+v, want %+v", got, c.want)
			}
			if c.wantCode == "" {
				if err != nil {
					t.Fatalf("decode failed: %v", err)
				}
				return
			}
			var ae *apierr.Error
			if !errors.As(err, &ae) || ae.Code != c.wantCode {
				t.Fatalf("got %v, want %s", err, c.wantCode)
			}
			if fields, ok := ae.Details.([]apierr.FieldError); !ok || len(fields) != 1 || fields[0].Field != c.wantField {
				t.Errorf("details %v, want one error of field %q", ae.Details, c.wantField)
			}
		})
	}
}

func TestDecodeBodyOfATypeWithoutValidateOnlyDecodes(t *testing.T) {
	got, err := httpx.DecodeBody[sample](postJSON(`{"name":"  a ","count":0}`))
	if err != nil || got != (sample{Name: "  a "}) {
		t.Errorf("got %+v, %v", got, err)
	}
}
