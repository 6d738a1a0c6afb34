package report

import (
	"net/http"

	"github.com/workpulse/workpulse/services/platform/apierr"
)

// Domain errors of the report service.
var (
	ErrInvalidDateRange = apierr.New(http.StatusBadRequest, "REPORT_INVALID_DATE_RANGE", "invalid date or date range")
	ErrUserNotFound     = apierr.New(http.StatusNotFound, "REPORT_USER_NOT_FOUND", "no such user in this organization")
	ErrUnauthorized     = apierr.New(http.StatusForbidden, "REPORT_UNAUTHORIZED", "you may only read your own reports, or your teams' members' as their manager")
	ErrAlertNotFound    = apierr.New(http.StatusNotFound, "ALERT_NOT_FOUND", "no such alert")
	ErrAlertResolved    = apierr.New(http.StatusConflict, "ALERT_ALREADY_RESOLVED", "the alert is already resolved")
	ErrJobNotFound      = apierr.New(http.StatusNotFound, "JOB_NOT_FOUND", "no such job")
	ErrWebhookNotFound  = apierr.New(http.StatusNotFound, "WEBHOOK_NOT_FOUND", "no such webhook")
)
