// Package page reads and writes the cursor pagination of the list
// endpoints that keep the contract's array bodies (projects, employees):
// ?limit= and ?cursor= in, the next page's cursor in the X-Next-Cursor
// response header, absent on the last page. Every such list is ordered by
// a text key and then the row's UUID, so one cursor shape serves them all.
package page

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"

	"github.com/google/uuid"

	"github.com/workpulse/workpulse/services/platform/validate"
)

// Limits of ?limit=.
const (
	DefaultLimit = 100
	MaxLimit     = 500
)

// NextHeader carries the cursor of the next page.
const NextHeader = "X-Next-Cursor"

// Cursor is the position after a page's last row: its sort key and id.
type Cursor struct {
	Key string
	ID  string
}

// Request is a page asked for: at most Limit rows after After (nil: from
// the start).
type Request struct {
	Limit int
	After *Cursor
}

// Parse reads ?limit= (1..MaxLimit, default DefaultLimit) and ?cursor=,
// adding what is wrong to v.
func Parse(q url.Values, v *validate.Fields) Request {
	req := Request{Limit: DefaultLimit}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > MaxLimit {
			v.Add("limit", "must be an integer from 1 to "+strconv.Itoa(MaxLimit), validate.Echo(l))
		} else {
			req.Limit = n
		}
	}
	if c := q.Get("cursor"); c != "" {
		cur, ok := decode(c)
		if !ok {
			v.Add("cursor", "is not a cursor this API returned", validate.Echo(c))
		}
		req.After = cur
	}
	return req
}

// Encode is the cursor as the client passes it back: opaque, URL-safe.
func (c Cursor) Encode() string {
	// The id is a UUID of fixed length, so the key needs no separator.
	return base64.RawURLEncoding.EncodeToString([]byte(c.ID + c.Key))
}

func decode(s string) (*Cursor, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(raw) < 36 {
		return nil, false
	}
	id := string(raw[:36])
	if _, err := uuid.Parse(id); err != nil {
		return nil, false
	}
	return &Cursor{ID: id, Key: string(raw[36:])}, true
}

// SetNext announces the next page, if there is one; call it before the
// body is written.
func SetNext(w http.ResponseWriter, next *Cursor) {
	if next != nil {
		w.Header().Set(NextHeader, next.Encode())
	}
}

// Args are the arguments of a list query's keyset clause, in the order
// every list takes them, `WHERE NOT $1 OR (key, id) > ($2, $3::uuid) ...
// LIMIT $4`: whether there is a cursor, its key and id, and one row more
// than the page, so that Trim can tell whether another page follows.
func Args(req Request) []any {
	after, afterID := "", "00000000-0000-0000-0000-000000000000"
	if req.After != nil {
		after, afterID = req.After.Key, req.After.ID
	}
	return []any{req.After != nil, after, afterID, req.Limit + 1}
}

// Keyed is a listed item as its query reads it, with its sort key.
type Keyed[T any] struct {
	Item T
	Key  string
}

// TrimKeyed is Trim for rows read as Keyed: the page's items, and the next
// page's cursor from the last row's key and the id of its item.
func TrimKeyed[T any](rows []Keyed[T], req Request, id func(T) string) ([]T, *Cursor) {
	rows, next := Trim(rows, req, func(r Keyed[T]) (string, string) { return r.Key, id(r.Item) })
	items := make([]T, len(rows))
	for i, r := range rows {
		items[i] = r.Item
	}
	return items, next
}

// Trim cuts rows fetched with a limit of req.Limit+1 to the page and
// returns the next page's cursor (nil on the last page), keyed by the
// last row's key and id.
func Trim[T any](rows []T, req Request, key func(T) (sortKey, id string)) ([]T, *Cursor) {
	if len(rows) <= req.Limit {
		return rows, nil
	}
	rows = rows[:req.Limit]
	k, id := key(rows[len(rows)-1])
	return rows, &Cursor{Key: k, ID: id}
}
