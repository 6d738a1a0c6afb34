package report

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"time"

	"github.com/workpulse/workpulse/services/platform/netguard"
)

// webhookTargetResolveTimeout bounds the name lookup of a URL's host when
// an endpoint is created or changed.
const webhookTargetResolveTimeout = 5 * time.Second

// privateWebhookTarget tells whether rawURL's host is, or resolves to, a
// private address (netguard). A name that does not resolve (yet) is not refused
// here: the check at send time covers whatever it resolves to later.
func privateWebhookTarget(ctx context.Context, rawURL string) bool {
	u, err := url.Parse(rawURL)
	if err != nil {
		return false // the URL check reports it
	}
	host := u.Hostname()
	if a, err := netip.ParseAddr(host); err == nil {
		return netguard.Private(a)
	}
	ctx, cancel := context.WithTimeout(ctx, webhookTargetResolveTimeout)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if netguard.Private(a) {
			return true
		}
	}
	return false
}

// guardedTransport is base (nil: a clone of the default transport) with a
// dialer that refuses private addresses at the moment of connecting: the
// check is of the address actually dialled, so a name resolving to a
// public address at creation and a private one later (DNS rebinding) is
// refused too. It uses no proxy, since the address dialled would then be
// the proxy's.
func guardedTransport(base *http.Transport) *http.Transport {
	if base == nil {
		base = http.DefaultTransport.(*http.Transport)
	}
	t := base.Clone()
	t.Proxy = nil
	dialer := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second, Control: netguard.Control}
	t.DialContext = dialer.DialContext
	return t
}
