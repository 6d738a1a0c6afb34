package auth

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/services/platform/page"
	"github.com/workpulse/workpulse/services/platform/validate"
)

// Audited actions. The report service records report.read and
// report.exported itself (auth.record_report_audit), ingest the time
// corrections (auth.record_tracking_audit).
const (
	AuditRoleChanged      = "user.role_changed"
	AuditDeactivated      = "user.deactivated"
	AuditReactivated      = "user.reactivated"
	AuditRemoved          = "user.removed"
	AuditSignedOutAll     = "user.signed_out_everywhere"
	AuditSignedOut        = "user.signed_out"
	AuditInvited          = "user.invited"
	AuditDeviceRegistered = "device.registered"
	AuditDeviceRevoked    = "device.revoked"
	AuditDeviceRenewed    = "device.renewed"
	AuditSettingsChanged  = "organization.settings_changed"
	AuditReportRead       = "report.read"
	AuditReportExported   = "report.exported"
	// Ingest records changes of the URL redaction rules itself
	// (auth.record_tracking_audit).
	AuditRedactionChanged = "organization.redaction_changed"

	// AuditDataExported is a member's export of everything stored about
	// them, by themself or an admin.
	AuditDataExported = "user.data_exported"

	AuditPasswordChanged = "user.password_changed"
	// AuditPasswordChangeFailed is a change of one's own password refused
	// for a wrong current password.
	AuditPasswordChangeFailed = "user.password_change_failed"
	AuditPasswordReset        = "user.password_reset"
	AuditLoginSucceeded       = "user.login_succeeded"
	AuditLoginFailed          = "user.login_failed"
	AuditProvisioned          = "user.provisioned"
	AuditTeamCreated          = "team.created"
	AuditTeamRenamed          = "team.renamed"
	AuditTeamDeleted          = "team.deleted"
	AuditTeamMemberAdded      = "team.member_added"
	// AuditTeamMemberRole is a member made the team's manager or no
	// longer its manager.
	AuditTeamMemberRole    = "team.member_role_changed"
	AuditTeamMemberRemoved = "team.member_removed"
	AuditSSOConfigured     = "sso.configured"
	AuditSSORemoved        = "sso.removed"
	AuditAdopted           = "organization.adopted"
	AuditIdleDecided       = "time.idle_decided"
	AuditTimeRequested     = "time.requested"
	AuditTimeApproved      = "time.approved"
	AuditTimeRejected      = "time.rejected"
	// AuditTimesheetLocked and AuditTimesheetUnlocked are ingest's: an
	// admin's timesheet lock set or moved later, and moved earlier or
	// removed.
	AuditTimesheetLocked   = "timesheet.locked"
	AuditTimesheetUnlocked = "timesheet.unlocked"

	auditSubjectUser       = "user"
	auditSubjectDevice     = "device"
	auditSubjectOrg        = "organization"
	auditSubjectInvitation = "invitation"
	auditSubjectTeam       = "team"
)

// auditActions are the actions GET /api/audit filters by.
var auditActions = []string{AuditRoleChanged, AuditDeactivated, AuditReactivated, AuditRemoved, AuditSignedOutAll, AuditSignedOut, AuditInvited,
	AuditDeviceRegistered, AuditDeviceRevoked, AuditDeviceRenewed, AuditSettingsChanged, AuditReportRead, AuditReportExported, AuditRedactionChanged,
	AuditPasswordChanged, AuditPasswordChangeFailed, AuditPasswordReset, AuditLoginSucceeded, AuditLoginFailed, AuditProvisioned,
	AuditTeamCreated, AuditTeamRenamed, AuditTeamDeleted, AuditTeamMemberAdded, AuditTeamMemberRole, AuditTeamMemberRemoved,
	AuditSSOConfigured, AuditSSORemoved, AuditAdopted, AuditIdleDecided, AuditTimeRequested, AuditTimeApproved, AuditTimeRejected,
	AuditTimesheetLocked, AuditTimesheetUnlocked, AuditDataExported}

// loginFailureSpan and maxLoginFailureEntries bound the user.login_failed
// entries of one account (or, for refused single sign-ons, of one
// organization), and its user.password_change_failed entries: the throttle lets a guesser try about once a
// minute per account forever (and refuses a deactivated account's right
// password without slowing it down), so recording every failure would
// let anyone grow an organization's log by the day. Ten a day show an
// admin that someone is trying, from where, without that.
const (
	loginFailureSpan       = 24 * time.Hour
	maxLoginFailureEntries = 10
)

// Client is who sent a request, as the sign-in entries record it.
type Client struct {
	IP        string `json:"ip"`
	UserAgent string `json:"user_agent"`
}

// maxUserAgent bounds the user agent kept of a request: it is the
// client's to choose, and a sign-in entry must not carry kilobytes of it.
const maxUserAgent = 256

// clientOf is the sender of r: the address the throttle counts and the
// first maxUserAgent bytes of its user agent, cut at a character.
func (s *server) clientOf(r *http.Request) Client {
	ua := r.UserAgent()
	if len(ua) > maxUserAgent {
		ua = strings.ToValidUTF8(ua[:maxUserAgent], "")
	}
	return Client{IP: s.clientIP(r), UserAgent: ua}
}

// Login is how a sign-in came about, for its audit entry.
type Login struct {
	Client
	// Method is "password" or "sso".
	Method string `json:"method"`
}

// AuditEntry is one entry of the audit log: ActorID did Action to the
// subject. ActorID is nil for what the platform did on its own.
type AuditEntry struct {
	ID          string         `json:"id"`
	OccurredAt  time.Time      `json:"occurred_at"`
	ActorID     *string        `json:"actor_id"`
	Action      string         `json:"action"`
	SubjectType string         `json:"subject_type"`
	SubjectID   *string        `json:"subject_id"`
	Details     map[string]any `json:"details"`
}

// AuditFilter narrows the audit log; zero values do not filter.
type AuditFilter struct {
	ActorID, SubjectID, Action string
	From, To                   *time.Time
}

// actorOf is who is acting in ctx: the authenticated caller, or nil for
// the platform (the operator's internal API).
func actorOf(ctx context.Context) *string {
	if p, ok := authn.FromContext(ctx); ok {
		return &p.UserID
	}
	return nil
}

// listAudit serves GET /api/audit: the organization's audit log, newest
// first, filtered by actor_id, subject_id, action and a [from, to) range
// of RFC 3339 instants, a page at a time.
func (s *server) listAudit(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := AuditFilter{ActorID: q.Get("actor_id"), SubjectID: q.Get("subject_id"), Action: q.Get("action")}
	var v validate.Fields
	if f.ActorID != "" {
		v.UUID("actor_id", f.ActorID)
	}
	if f.SubjectID != "" {
		v.UUID("subject_id", f.SubjectID)
	}
	if f.Action != "" {
		v.OneOf("action", f.Action, auditActions...)
	}
	instant := func(field string) *time.Time {
		raw := q.Get(field)
		if raw == "" {
			return nil
		}
		at, err := time.Parse(time.RFC3339, raw)
		if err != nil {
			v.Add(field, "must be an RFC 3339 instant such as 2027-01-31T09:00:00Z", validate.Echo(raw))
			return nil
		}
		return &at
	}
	f.From, f.To = instant("from"), instant("to")
	if f.From != nil && f.To != nil && !f.From.Before(*f.To) {
		v.Add("to", "must be after from", validate.Echo(q.Get("to")))
	}
	if err := v.Err(); err != nil {
		return err
	}
	return page.Serve(w, r, authn.MustFromContext(r.Context()).OrganizationID,
		func(ctx context.Context, org string, req page.Request) ([]AuditEntry, *page.Cursor, error) {
			return s.store.ListAudit(ctx, org, f, req)
		})
}
