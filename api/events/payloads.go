package events

import "time"

// OrganizationCreated is emitted by auth when an organization is created,
// by registration or by the operator provisioning a tenant.
type OrganizationCreated struct {
	OrganizationID string `json:"organization_id"`
	Name           string `json:"name"`
	PlanType       string `json:"plan_type"`
}

// UserCreated is emitted by auth for every new member of an organization.
type UserCreated struct {
	UserID         string `json:"user_id"`
	OrganizationID string `json:"organization_id"`
	Email          string `json:"email"`
	Name           string `json:"name"`
	Role           string `json:"role"`
}

// UserRemoved is the payload of user.removed: the member is gone from
// auth; with EraseData every service deletes what it holds of them
// (sessions, activity, summaries, alerts), otherwise it keeps it.
type UserRemoved struct {
	UserID         string `json:"user_id"`
	OrganizationID string `json:"organization_id"`
	EraseData      bool   `json:"erase_data"`
}

// Session is the session state carried by session and activity events.
type Session struct {
	SessionID          string     `json:"session_id"`
	OrganizationID     string     `json:"organization_id"`
	UserID             string     `json:"user_id"`
	ProjectID          *string    `json:"project_id"`
	Status             string     `json:"status"`
	StartTime          time.Time  `json:"start_time"`
	EndTime            *time.Time `json:"end_time"`
	TotalActiveSeconds int64      `json:"total_active_seconds"`
	TotalIdleSeconds   int64      `json:"total_idle_seconds"`
	LastActivityAt     *time.Time `json:"last_activity_at"`
	// LastActivityType is the type (active, idle) of the activity at
	// LastActivityAt; absent from the events of earlier releases.
	LastActivityType *string `json:"last_activity_type,omitempty"`
	Version          int64   `json:"version"`
}

// SessionStarted and SessionStopped carry the session after the change.
type SessionStarted struct{ Session }
type SessionStopped struct{ Session }

// ActivityRecorded is emitted once per accepted activity request (single or
// bulk) that stored at least one activity, with the session's new totals.
type ActivityRecorded struct {
	Session
	// Stored counts the activities this request stored.
	Stored int `json:"stored"`
	// ActiveSeconds and IdleSeconds are what this request added.
	ActiveSeconds int64 `json:"active_seconds"`
	IdleSeconds   int64 `json:"idle_seconds"`
	// LastActiveAt is the latest timestamp of an active activity in this
	// request, if any: the signal that resolves an open idle alert.
	LastActiveAt *time.Time `json:"last_active_at"`
	// FirstAt and LastAt are the earliest and latest timestamps this
	// request stored: the days whose summaries it changes.
	FirstAt *time.Time `json:"first_at,omitempty"`
	LastAt  *time.Time `json:"last_at,omitempty"`
}

// ActivityCorrected is emitted when an idle decision reclassified a
// session's stored idle activity, with the session's new totals.
type ActivityCorrected struct {
	Session
	// DecisionID names the idle decision; Decision is keep, discard or
	// assign. For an approved manual entry DecisionID is the time request
	// and Decision CorrectionManualEntry; for an approved session edit,
	// CorrectionSessionEdit.
	DecisionID string  `json:"decision_id"`
	Decision   string  `json:"decision"`
	ProjectID  *string `json:"assigned_project_id,omitempty"`
	// IdleSeconds is how much idle time the decision reclassified.
	IdleSeconds int64 `json:"idle_seconds"`
	// FirstAt and LastAt are the earliest and latest timestamps of the
	// reclassified activities: the days whose summaries change.
	FirstAt time.Time `json:"first_at"`
	LastAt  time.Time `json:"last_at"`
}

// CorrectionManualEntry is the Decision of an ActivityCorrected that
// stored an approved manual entry's activity.
const CorrectionManualEntry = "manual_entry"

// CorrectionSessionEdit is the Decision of an ActivityCorrected that
// applied an approved edit of a session's project or bounds; DecisionID
// is the time request, FirstAt and LastAt the earlier start and the later
// end of the session before and after.
const CorrectionSessionEdit = "session_edit"

// TimeRequest is the payload of time.requested, time.approved and
// time.rejected: a manual entry or a session edit after the step, by ids
// and times only. The employee's and the reviewer's notes stay in the
// service, so that an event already published holds no text an erasure
// of the member would have to reach.
type TimeRequest struct {
	RequestID      string `json:"request_id"`
	OrganizationID string `json:"organization_id"`
	UserID         string `json:"user_id"`
	// Kind is entry or edit; Status pending, approved or rejected.
	Kind   string `json:"kind"`
	Status string `json:"status"`
	// ProjectID, StartTime and EndTime are the entry's, or those an edit
	// gives its session.
	ProjectID *string   `json:"project_id"`
	StartTime time.Time `json:"start_time"`
	EndTime   time.Time `json:"end_time"`
	// SessionID is the session an edit changes or an approved entry became.
	SessionID   *string    `json:"session_id"`
	RequestedAt time.Time  `json:"requested_at"`
	ReviewedBy  *string    `json:"reviewed_by"`
	ReviewedAt  *time.Time `json:"reviewed_at"`
}

// SummaryReady is emitted by the report service when it has computed the
// daily summaries of an organization's local day: by the scheduled run
// once the day has ended, or again when an admin summarizes that date.
type SummaryReady struct {
	OrganizationID string `json:"organization_id"`
	// Date is the organization's local day, YYYY-MM-DD.
	Date string `json:"date"`
	// Users counts the members the day has a summary of.
	Users      int64     `json:"users"`
	ComputedAt time.Time `json:"computed_at"`
}

// Alert is raised or resolved by the report service.
type Alert struct {
	AlertID        string     `json:"alert_id"`
	OrganizationID string     `json:"organization_id"`
	UserID         string     `json:"user_id"`
	SessionID      *string    `json:"session_id"`
	AlertType      string     `json:"alert_type"` // "idle" or "overtime"
	Message        string     `json:"message"`
	CreatedAt      time.Time  `json:"created_at"`
	ResolvedAt     *time.Time `json:"resolved_at"`
}

// TenantSettings are a tenant's settings as the operator declares them:
// the body of auth's internal tenants API (beside the bootstrap admin) and
// what auth publishes in tenant.updated, so the two cannot disagree.
type TenantSettings struct {
	Name                     string `json:"name"`
	PlanType                 string `json:"plan_type"`
	TimeZone                 string `json:"time_zone"`
	Suspended                bool   `json:"suspended"`
	Active                   bool   `json:"active"`
	InactiveThresholdSeconds int    `json:"inactive_threshold_seconds"`
	IdleThresholdSeconds     int    `json:"idle_threshold_seconds"`
	OvertimeThresholdHours   int    `json:"overtime_threshold_hours"`
	// ActivityWindowDays is how many days back the API accepts an
	// activity's timestamp or a session's start_time; 0 is the
	// installation's ACTIVITY_WINDOW_DAYS.
	ActivityWindowDays int `json:"activity_window_days,omitempty"`
	// RetentionMonths is how many whole months of the organization's data
	// are kept; 0 is the installation's.
	RetentionMonths int `json:"retention_months,omitempty"`
	// Generation orders updates: a consumer ignores one older than what it has.
	Generation int64 `json:"generation"`
}

// TenantUpdated carries the settings of a tenant managed by the operator.
type TenantUpdated struct {
	OrganizationID string `json:"organization_id"`
	TenantSettings
}
