package export_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/workpulse/workpulse/services/platform/export"
	"github.com/workpulse/workpulse/test/testkit"
)

func TestCSVTextNeutralizesFormulaCells(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"A cell starting with = is shown as text.", "=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"},
		{"A cell starting with + is shown as text.", "+1+1", "'+1+1"},
		{"A cell starting with - is shown as text.", "-2+3", "'-2+3"},
		{"A cell starting with @ is shown as text.", "@SUM(A1)", "'@SUM(A1)"},
		{"A cell starting with a tab is shown as text.", "\t=1", "'\t=1"},
		{"A cell starting with a carriage return is shown as text.", "\r=1", "'\r=1"},
		{"An ordinary name stays as it is.", "Ada Lovelace", "Ada Lovelace"},
		{"A sign later in the cell stays as it is.", "Ada =1", "Ada =1"},
		{"An empty cell stays empty.", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := export.CSVText(tt.in); got != tt.want {
				t.Errorf("CSVText(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestWantsCSVNegotiatesTheFormat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, query, accept string
		want, refused       bool
	}{
		{"Without a format or an Accept header the export is JSON.", "", "", false, false},
		{"format=csv asks for CSV.", "?format=csv", "", true, false},
		{"format=json wins over an Accept header naming CSV.", "?format=json", "text/csv", false, false},
		{"An Accept header naming CSV among others asks for CSV.", "", "application/json;q=0.5, text/csv", true, false},
		{"Another format is refused.", "?format=xml", "", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/api/users/me/export"+tt.query, nil)
			if tt.accept != "" {
				r.Header.Set("Accept", tt.accept)
			}
			got, err := export.WantsCSV(r)
			if (err != nil) != tt.refused || got != tt.want {
				t.Errorf("got %v, %v; want %v, refused %v", got, err, tt.want, tt.refused)
			}
		})
	}
}

// part runs export.Part over a table of two members' notes, in a
// transaction of its own database.
func part(t *testing.T, asCSV bool, maxRows int, user string) []byte {
	t.Helper()
	db := testkit.NewDB(t)
	ctx := context.Background()
	var out bytes.Buffer
	err := pgx.BeginFunc(ctx, db.Owner, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE notes (n int, user_id text, body text, extra jsonb, delta int)`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO notes VALUES
			(1, 'ada', '=HYPERLINK("http://evil.example")', '{"k": "@x"}', -5),
			(2, 'ada', 'plain', NULL, 3),
			(3, 'ada', 'third', '[1,2]', 0),
			(1, 'bob', 'not ada''s', NULL, 9)`); err != nil {
			return err
		}
		return export.Part(ctx, tx, &out, asCSV, maxRows, user, []export.Section{
			{Name: "notes", Query: "SELECT row_to_json(t) FROM (SELECT n, body, extra, delta FROM notes WHERE user_id = $1 ORDER BY n) t"},
			{Name: "none", Query: "SELECT row_to_json(t) FROM (SELECT n FROM notes WHERE user_id = $1 AND false) t"},
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func TestAJSONPartHoldsEachSectionsRecordsOfTheMemberOnly(t *testing.T) {
	var got struct {
		Notes     []map[string]any `json:"notes"`
		None      []map[string]any `json:"none"`
		Truncated []string         `json:"truncated"`
	}
	raw := part(t, false, 10, "ada")
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatalf("%v in %s", err, raw)
	}
	if len(got.Notes) != 3 || got.Notes[0]["body"] != `=HYPERLINK("http://evil.example")` || got.Notes[2]["body"] != "third" {
		t.Errorf("notes %v", got.Notes)
	}
	if got.None == nil || len(got.None) != 0 || got.Truncated == nil || len(got.Truncated) != 0 {
		t.Errorf("an empty section and no truncation should be empty arrays: %s", raw)
	}
}

func TestAPartCutsASectionAtTheBoundAndSaysSo(t *testing.T) {
	t.Run("JSON names the section in truncated.", func(t *testing.T) {
		var got struct {
			Notes     []map[string]any `json:"notes"`
			Truncated []string         `json:"truncated"`
		}
		if err := json.Unmarshal(part(t, false, 2, "ada"), &got); err != nil {
			t.Fatal(err)
		}
		if len(got.Notes) != 2 || !reflect.DeepEqual(got.Truncated, []string{"notes"}) {
			t.Errorf("got %+v", got)
		}
	})
	t.Run("A section of exactly the bound is whole.", func(t *testing.T) {
		var got struct {
			Truncated []string `json:"truncated"`
		}
		if err := json.Unmarshal(part(t, false, 3, "ada"), &got); err != nil || len(got.Truncated) != 0 {
			t.Errorf("got %+v, %v", got, err)
		}
	})
	t.Run("CSV ends with a truncated row naming the section.", func(t *testing.T) {
		rows, err := csv.NewReader(bytes.NewReader(part(t, true, 2, "ada"))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if last := rows[len(rows)-1]; !reflect.DeepEqual(last, []string{export.TruncatedSection, "1", "section", "notes"}) {
			t.Errorf("last row %q", last)
		}
	})
}

func TestACSVPartHasARowPerFieldWithTextNeutralized(t *testing.T) {
	rows, err := csv.NewReader(bytes.NewReader(part(t, true, 10, "ada"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"notes", "1", "n", "1"},
		{"notes", "1", "body", `'=HYPERLINK("http://evil.example")`},
		{"notes", "1", "extra", `{"k": "@x"}`},
		{"notes", "1", "delta", "-5"},
		{"notes", "2", "n", "2"},
		{"notes", "2", "body", "plain"},
		{"notes", "2", "extra", ""},
		{"notes", "2", "delta", "3"},
		{"notes", "3", "n", "3"},
		{"notes", "3", "body", "third"},
		{"notes", "3", "extra", "[1, 2]"},
		{"notes", "3", "delta", "0"},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("rows\n%q\nwant\n%q", rows, want)
	}
}
