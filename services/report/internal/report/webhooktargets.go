package report

import (
	"context"
	"crypto/tls"
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

// webhookTransport is what deliveries go through: base (nil: the default
// transport), trusting cfg.WebhookRoots when set, and guarded against
// private addresses unless cfg.WebhookAllowPrivateTargets.
func webhookTransport(base *http.Transport, cfg Config) *http.Transport {
	if base == nil {
		base = http.DefaultTransport.(*http.Transport)
	}
	t := base.Clone()
	if cfg.WebhookRoots != nil {
		tc := &tls.Config{MinVersion: tls.VersionTLS12}
		if t.TLSClientConfig != nil {
			tc = t.TLSClientConfig.Clone()
		}
		tc.RootCAs = cfg.WebhookRoots
		t.TLSClientConfig = tc
	}
	if !cfg.WebhookAllowPrivateTargets {
		guard(t)
	}
	return t
}

// guard gives t a dialer that refuses private addresses at the moment of
// connecting: the check is of the address actually dialled, so a name
// resolving to a public address at creation and a private one later (DNS
// rebinding) is refused too. t uses no proxy then, since the address
// dialled would be the proxy's.
func guard(t *http.Transport) {
	t.Proxy = nil
	dialer := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second, Control: netguard.Control}
	t.DialContext = dialer.DialContext
}
