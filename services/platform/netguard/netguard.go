// Package netguard keeps the services' outgoing calls to addresses an
// organization names (webhook endpoints, single sign-on providers) out of
// the installation's own networks: loopback, private, link-local
// (including the cloud metadata address), CGNAT, multicast and
// unspecified addresses.
package netguard

import (
	"errors"
	"fmt"
	"net/netip"
	"syscall"
)

// ErrPrivate is an address refused as private.
var ErrPrivate = errors.New("refused: the address is loopback, private, link-local, CGNAT, multicast or unspecified")

// extraRanges are the networks refused besides the ones netip classifies
// itself.
var extraRanges = []netip.Prefix{
	netip.MustParsePrefix("100.64.0.0/10"), // CGNAT (RFC 6598)
	netip.MustParsePrefix("0.0.0.0/8"),     // "this network": Linux dials 0.x as local
}

// Private tells whether a is an address outgoing calls may not reach.
func Private(a netip.Addr) bool {
	a = a.Unmap() // ::ffff:127.0.0.1 is 127.0.0.1
	if !a.IsValid() || a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsInterfaceLocalMulticast() || a.IsMulticast() || a.IsUnspecified() {
		return true
	}
	for _, p := range extraRanges {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Control is a net.Dialer Control refusing private addresses. It checks
// the address actually dialled, after name resolution, so that a name
// resolving to a public address when it was checked and to a private one
// later (DNS rebinding) is refused too.
func Control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %s", ErrPrivate, address)
	}
	if Private(ap.Addr()) {
		return fmt.Errorf("%w: %s", ErrPrivate, ap.Addr())
	}
	return nil
}
