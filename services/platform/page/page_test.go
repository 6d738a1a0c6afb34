package page

import (
	"fmt"
	"net/url"
	"reflect"
	"testing"

	"github.com/workpulse/workpulse/services/platform/validate"
)

func TestParseReadsLimitsAndCursorsAndRefusesOthers(t *testing.T) {
	good := Cursor{Key: "ada | lovelace", ID: "6f1c2b0e-9d3a-4c5e-8f7a-1b2c3d4e5f60"}.Encode()
	tests := []struct {
		name  string
		query string
		limit int
		after *Cursor
		ok    bool
	}{
		{"No parameters ask for the first page of the default size.", "", DefaultLimit, nil, true},
		{"The largest limit is accepted.", "limit=500", 500, nil, true},
		{"A limit above the largest is refused.", "limit=501", 0, nil, false},
		{"A limit of zero is refused.", "limit=0", 0, nil, false},
		{"A limit that is not a number is refused.", "limit=all", 0, nil, false},
		{"A cursor comes back as it was given.", "cursor=" + good, DefaultLimit, &Cursor{Key: "ada | lovelace", ID: "6f1c2b0e-9d3a-4c5e-8f7a-1b2c3d4e5f60"}, true},
		{"A cursor that is not base64 is refused.", "cursor=***", 0, nil, false},
		{"A cursor without an id is refused.", "cursor=YWRh", 0, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, _ := url.ParseQuery(tt.query)
			var v validate.Fields
			req := Parse(q, &v)
			if (v.Err() == nil) != tt.ok {
				t.Fatalf("err = %v; want ok %v", v.Err(), tt.ok)
			}
			if !tt.ok {
				return
			}
			if req.Limit != tt.limit || (req.After == nil) != (tt.after == nil) || (req.After != nil && *req.After != *tt.after) {
				t.Errorf("got %+v %+v; want limit %d after %+v", req, req.After, tt.limit, tt.after)
			}
		})
	}
}

func TestTheKeysetArgumentsStartAtTheBeginningOrAfterTheCursor(t *testing.T) {
	if got := Args(Request{Limit: 50}); !reflect.DeepEqual(got, []any{false, "", "00000000-0000-0000-0000-000000000000", 51}) {
		t.Errorf("the first page: %v", got)
	}
	after := &Cursor{Key: "backend", ID: "5f0c6a52-8a77-4d4e-9d6b-0b8e0f3a8c11"}
	if got := Args(Request{Limit: 2, After: after}); !reflect.DeepEqual(got, []any{true, after.Key, after.ID, 3}) {
		t.Errorf("a page after a cursor: %v", got)
	}
}

func TestTrimKeyedReturnsThePagesItemsAndTheCursorAfterTheLast(t *testing.T) {
	rows := []Keyed[int]{{Item: 1, Key: "a"}, {Item: 2, Key: "b"}, {Item: 3, Key: "c"}}
	id := func(i int) string { return fmt.Sprint("id-", i) }
	if items, next := TrimKeyed(rows, Request{Limit: 2}, id); !reflect.DeepEqual(items, []int{1, 2}) || next == nil || *next != (Cursor{Key: "b", ID: "id-2"}) {
		t.Errorf("a page with more after it: %v %+v", items, next)
	}
	if items, next := TrimKeyed(rows, Request{Limit: 3}, id); !reflect.DeepEqual(items, []int{1, 2, 3}) || next != nil {
		t.Errorf("a last page: %v %v", items, next)
	}
}

func TestTrimCutsThePageAndPointsAfterItsLastRow(t *testing.T) {
	rows := []string{"a", "b", "c"}
	key := func(s string) (string, string) { return s, "id-" + s }
	if page, next := Trim(rows, Request{Limit: 3}, key); len(page) != 3 || next != nil {
		t.Errorf("a last page: %v %v", page, next)
	}
	if page, next := Trim(rows, Request{Limit: 2}, key); len(page) != 2 || next == nil || *next != (Cursor{Key: "b", ID: "id-b"}) {
		t.Errorf("a page with more after it: %v %+v", page, next)
	}
}
