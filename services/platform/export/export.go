// Package export streams what one service stores about one member, for
// the per-member export (GET /api/users/{id}/export): auth answers it and
// appends the parts ingest and report stream from their own schemas, so
// that every service reads only what its database role may read.
//
// A part is a JSON object of sections, each an array of records:
//
//	{"devices":[{...},{...}],"sign_ins":[...],"truncated":["activity"]}
//
// or, as CSV, rows of section, record, field and value (a record's fields
// on consecutive rows, records numbered from 1 in each section), without
// a header: auth writes Header once before the parts. Records go out as
// PostgreSQL returns them, never collected: the export of years of
// activity holds one row in memory at a time.
package export

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/workpulse/workpulse/services/platform/apierr"
)

// Header is the CSV header of a whole export.
var Header = []string{"section", "record", "field", "value"}

// TruncatedSection is the section a CSV part names, one row per section
// that had more records than the bound, the sections cut short.
const TruncatedSection = "truncated"

// WantsCSV negotiates the format of an export or a report: ?format=
// (json or csv) wins over an Accept header naming text/csv; JSON is the
// default.
func WantsCSV(r *http.Request) (bool, error) {
	switch f := r.URL.Query().Get("format"); f {
	case "csv":
		return true, nil
	case "json":
		return false, nil
	case "":
	default:
		return false, apierr.InvalidField("format", "must be one of json, csv", f)
	}
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		if mt, _, err := mime.ParseMediaType(strings.TrimSpace(part)); err == nil && mt == "text/csv" {
			return true, nil
		}
	}
	return false, nil
}

// Section is one kind of record of a part: Query selects, for the member
// $1, one JSON object per record (row_to_json) in a stable order; a LIMIT
// of $2 is appended to it.
type Section struct {
	Name  string
	Query string
}

// Part writes a service's sections of one member's export to w, at most
// maxRows records per section: a section with more is cut there and
// named in the part's truncated list, so that a reader knows the export
// is incomplete rather than taking it for all there is.
func Part(ctx context.Context, tx pgx.Tx, w io.Writer, asCSV bool, maxRows int, userID string, sections []Section) error {
	var p part
	if asCSV {
		p = &csvPart{w: csv.NewWriter(w)}
	} else {
		p = &jsonPart{w: w}
	}
	var truncated []string
	for _, s := range sections {
		cut, err := section(ctx, tx, p, s, maxRows, userID)
		if err != nil {
			return fmt.Errorf("export %s: %w", s.Name, err)
		}
		if cut {
			truncated = append(truncated, s.Name)
		}
	}
	return p.end(truncated)
}

func section(ctx context.Context, tx pgx.Tx, p part, s Section, maxRows int, userID string) (cut bool, err error) {
	rows, err := tx.Query(ctx, s.Query+" LIMIT $2", userID, maxRows+1)
	if err != nil {
		return false, err
	}
	defer rows.Close()
	if err := p.begin(s.Name); err != nil {
		return false, err
	}
	n := 0
	for rows.Next() {
		if n == maxRows {
			cut = true
			break
		}
		n++
		// The raw text of the row's JSON, not a decoded copy of it.
		if err := p.record(s.Name, n, rows.RawValues()[0]); err != nil {
			return false, err
		}
	}
	if err := rows.Err(); err != nil {
		return false, err
	}
	return cut, p.close()
}

type part interface {
	begin(section string) error
	record(section string, n int, obj []byte) error
	close() error
	end(truncated []string) error
}

// jsonPart writes the records as PostgreSQL rendered them.
type jsonPart struct {
	w        io.Writer
	sections int
	records  int
}

func (j *jsonPart) write(parts ...[]byte) error {
	for _, b := range parts {
		if _, err := j.w.Write(b); err != nil {
			return err
		}
	}
	return nil
}

func (j *jsonPart) begin(section string) error {
	open := []byte(",")
	if j.sections == 0 {
		open = []byte("{")
	}
	j.sections++
	j.records = 0
	name, _ := json.Marshal(section)
	return j.write(open, name, []byte(":["))
}

func (j *jsonPart) record(_ string, _ int, obj []byte) error {
	j.records++
	if j.records > 1 {
		return j.write([]byte(","), obj)
	}
	return j.write(obj)
}

func (j *jsonPart) close() error { return j.write([]byte("]")) }

func (j *jsonPart) end(truncated []string) error {
	if truncated == nil {
		truncated = []string{}
	}
	names, _ := json.Marshal(truncated)
	open := []byte(",")
	if j.sections == 0 {
		open = []byte("{")
	}
	return j.write(open, []byte(`"truncated":`), names, []byte("}"))
}

// csvPart writes one row per field of a record, in the record's order.
type csvPart struct{ w *csv.Writer }

func (c *csvPart) begin(string) error { return nil }

func (c *csvPart) record(section string, n int, obj []byte) error {
	dec := json.NewDecoder(bytes.NewReader(obj))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return fmt.Errorf("a record is not a JSON object: %s", obj)
	}
	record := strconv.Itoa(n)
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return err
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return err
		}
		if err := c.w.Write([]string{section, record, CSVText(key.(string)), cell(raw)}); err != nil {
			return err
		}
	}
	return nil
}

// cell is a field's value: a string as itself, null as nothing, numbers
// and booleans as JSON writes them, nested objects and arrays as their
// JSON text; strings and JSON text are neutralized (CSVText), numbers
// keep their minus.
func cell(raw json.RawMessage) string {
	switch {
	case string(raw) == "null":
		return ""
	case string(raw) == "true" || string(raw) == "false" || raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9':
		return string(raw)
	case raw[0] == '"':
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return CSVText(s)
		}
	}
	return CSVText(string(raw))
}

func (c *csvPart) close() error {
	c.w.Flush()
	return c.w.Error()
}

func (c *csvPart) end(truncated []string) error {
	for _, s := range truncated {
		if err := c.w.Write([]string{TruncatedSection, "1", "section", s}); err != nil {
			return err
		}
	}
	c.w.Flush()
	return c.w.Error()
}

// CSVText neutralizes a free-text cell a spreadsheet would otherwise run
// as a formula (a user named "=HYPERLINK(...)" or "@SUM(...)" executes in
// the reader's spreadsheet): a leading =, +, -, @, tab or carriage return
// gets a ' in front, which spreadsheets show as text. Only text cells go
// through it; a number its writer formatted itself may keep its minus.
func CSVText(v string) string {
	if v != "" && strings.IndexByte("=+-@\t\r", v[0]) >= 0 {
		return "'" + v
	}
	return v
}
