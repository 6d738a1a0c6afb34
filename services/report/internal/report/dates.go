package report

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/workpulse/workpulse/services/platform/apierr"
)

// parseDate reads a YYYY-MM-DD query parameter; ok is false when absent.
func parseDate(q url.Values, field string) (d time.Time, ok bool, err error) {
	raw := q.Get(field)
	if raw == "" {
		return time.Time{}, false, nil
	}
	d, err = time.Parse(time.DateOnly, raw)
	if err != nil {
		return time.Time{}, false, invalidDate(field, "must be a date in the form YYYY-MM-DD", raw)
	}
	return d, true, nil
}

func invalidDate(field, constraint string, value any) error {
	return ErrInvalidDateRange.WithMessage(field + " " + constraint).WithDetails([]apierr.FieldError{
		{Field: field, Constraints: []string{constraint}, Value: value}})
}

// dateRange reads startDate and endDate. endDate defaults to the
// tenant's today at now and startDate to 29 days before endDate; the
// range must be ordered and at most maxDays long.
func dateRange(ctx context.Context, tx pgx.Tx, org string, q url.Values, maxDays int, now time.Time) (from, to time.Time, err error) {
	from, hasFrom, err := parseDate(q, "startDate")
	if err != nil {
		return from, to, err
	}
	to, hasTo, err := parseDate(q, "endDate")
	if err != nil {
		return from, to, err
	}
	if !hasTo {
		if to, err = today(ctx, tx, org, now); err != nil {
			return from, to, err
		}
		if hasFrom && from.After(to) {
			to = from
		}
	}
	if !hasFrom {
		from = to.AddDate(0, 0, -29)
	}
	if from.After(to) {
		return from, to, ErrInvalidDateRange.WithMessage("startDate must not be after endDate").WithDetails([]apierr.FieldError{
			{Field: "startDate", Constraints: []string{"must not be after endDate"}, Value: from.Format(time.DateOnly)}})
	}
	if days := int(to.Sub(from).Hours()/24) + 1; days > maxDays {
		return from, to, invalidDate("endDate", fmt.Sprintf("must be at most %d days after startDate", maxDays-1), to.Format(time.DateOnly))
	}
	return from, to, nil
}
