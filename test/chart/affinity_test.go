package chartcheck

import (
	"strings"
	"testing"
)

// A Socket.IO session lives on one realtime replica, so its long polls
// must come back to it: through the Ingress by cookie, through the
// Service by client IP.
func TestSocketIOSessionsStayOnTheirReplica(t *testing.T) {
	for _, c := range []struct {
		name         string
		args         []string
		cookie       bool
		realtimeMode string
	}{
		{"By default the Ingress pins Socket.IO by cookie and the realtime Service by client IP.", nil, true, "ClientIP"},
		{"Both can be turned off.", []string{"--set", "ingress.socketIOAffinity=false", "--set", "services.realtime.sessionAffinity=None"}, false, "None"},
	} {
		t.Run(c.name, func(t *testing.T) {
			objs := render(t, "workpulse", c.args...)
			for _, p := range ingressPaths(t, objs) {
				a := p.ingress.GetAnnotations()
				socketIO := strings.HasPrefix(p.path, "/socket")
				wantCookie := socketIO && c.cookie
				if got := a["nginx.ingress.kubernetes.io/affinity"] == "cookie"; got != wantCookie {
					t.Errorf("Ingress %s path %s: cookie affinity %v, want %v", p.ingress.GetName(), p.path, got, wantCookie)
				}
				// ingress-nginx needs the cookie path of a regex path.
				if wantCookie && a["nginx.ingress.kubernetes.io/session-cookie-path"] != "/socket.io/" {
					t.Errorf("Ingress %s: session-cookie-path %q", p.ingress.GetName(), a["nginx.ingress.kubernetes.io/session-cookie-path"])
				}
			}
			for _, s := range find(objs, "Service") {
				name := strings.TrimPrefix(s.GetName(), fullname+"-")
				got, _ := nested(s.Object, "spec", "sessionAffinity").(string)
				want := ""
				if name == "realtime" {
					want = c.realtimeMode
				}
				if got != want {
					t.Errorf("Service %s: sessionAffinity %q, want %q", name, got, want)
				}
			}
		})
	}
}
