package page

import (
	"context"
	"net/http"

	"github.com/workpulse/workpulse/services/platform/httpx"
	"github.com/workpulse/workpulse/services/platform/validate"
)

// Serve answers a paged list of org's rows: it reads the page's limit and
// cursor from the query (refusing bad ones in the envelope), lists one page,
// and writes it with the next page's cursor in NextHeader.
func Serve[T any](w http.ResponseWriter, r *http.Request, org string, list func(context.Context, string, Request) ([]T, *Cursor, error)) error {
	var v validate.Fields
	req := Parse(r.URL.Query(), &v)
	if err := v.Err(); err != nil {
		return err
	}
	rows, next, err := list(r.Context(), org, req)
	if err != nil {
		return err
	}
	SetNext(w, next)
	httpx.JSON(w, http.StatusOK, rows)
	return nil
}
