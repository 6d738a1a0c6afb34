// Package routes is the one routing table of the public API: which service
// owns which /api path. The local front door (make dev) routes with it, and
// the Helm chart's Ingress is tested to route exactly the same way.
package routes

import "regexp"

// Service names, also the names of their Deployments and binaries.
const (
	Auth     = "auth"
	Session  = "session"
	Ingest   = "ingest"
	Report   = "report"
	Realtime = "realtime"
	Web      = "web"
)

// Services lists every service with its default local port.
var Services = []struct {
	Name string
	Port int
}{
	{Auth, 3001}, {Session, 3002}, {Ingest, 3003}, {Report, 3004}, {Realtime, 3005}, {Web, 3006},
}

// Route sends paths matching Pattern to Service. Earlier routes win.
type Route struct {
	// Pattern is an anchored regular expression on the URL path, in the
	// dialect nginx-ingress's use-regex accepts.
	Pattern string
	Service string
	// WebSocket marks long-lived upgraded connections.
	WebSocket bool
	// Sticky marks a protocol whose requests of one session must all
	// reach the replica holding it: Socket.IO's HTTP long polls.
	Sticky bool
}

// Table is the routing table, most specific first.
var Table = []Route{
	{Pattern: `^/api/sessions/[^/]+/(activity(/bulk)?|idle-decisions)$`, Service: Ingest},
	// Ingest applies the redaction rules, so it keeps them.
	{Pattern: `^/api/organization/redaction-rules$`, Service: Ingest},
	// Ingest owns the time a timesheet lock keeps from changing.
	{Pattern: `^/api/organization/timesheet-lock$`, Service: Ingest},
	// Ingest owns the session totals and the activity, which an approved
	// manual entry adds to.
	{Pattern: `^/api/time-requests(/.*)?$`, Service: Ingest},
	{Pattern: `^/api/sessions(/.*)?$`, Service: Session},
	{Pattern: `^/api/projects(/.*)?$`, Service: Session},
	{Pattern: `^/api/auth/.*$`, Service: Auth},
	{Pattern: `^/api/users(/.*)?$`, Service: Auth},
	{Pattern: `^/api/teams(/.*)?$`, Service: Auth},
	{Pattern: `^/api/(devices(/[^/]+(/renew)?)?|audit)$`, Service: Auth},
	{Pattern: `^/api/organization(/adoption-tokens|/sso)?$`, Service: Auth},
	// In a cluster auth answers for the whole platform (its HEALTH_PEERS);
	// the local front door answers /api/health itself.
	{Pattern: `^/api/health$`, Service: Auth},
	{Pattern: `^/api/(reports|alerts|jobs|webhooks|categories)(/.*)?$`, Service: Report},
	{Pattern: `^/api/ws$`, Service: Realtime, WebSocket: true},
	// Socket.IO (long polls, and WebSockets after the upgrade) at the
	// original system's path, outside /api as its clients expect.
	{Pattern: `^/socket\.io/$`, Service: Realtime, WebSocket: true, Sticky: true},
	{Pattern: `^/api/presence(/.*)?$`, Service: Realtime},
	// The API's docs page and its OpenAPI document, where the replaced
	// service served them; the web service serves static files anyway.
	{Pattern: `^/api/(docs(/.*)?|docs-json|openapi\.yaml)$`, Service: Web},
	// Everything else is the web app's: its pages and assets. Paths under
	// /api that no route above owns reach it too, and it answers them 404
	// in the API's envelope.
	{Pattern: `^/`, Service: Web},
}

var compiled = func() []*regexp.Regexp {
	out := make([]*regexp.Regexp, len(Table))
	for i, r := range Table {
		out[i] = regexp.MustCompile(r.Pattern)
	}
	return out
}()

// Lookup returns the route for path, or false.
func Lookup(path string) (Route, bool) {
	for i, re := range compiled {
		if re.MatchString(path) {
			return Table[i], true
		}
	}
	return Route{}, false
}
