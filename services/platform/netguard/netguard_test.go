package netguard

import (
	"errors"
	"net/netip"
	"testing"
)

func TestPrivate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		addr    string
		private bool
	}{
		{name: "A public IPv4 address may be reached.", addr: "93.184.216.34"},
		{name: "A public IPv6 address may be reached.", addr: "2606:2800:220:1:248:1893:25c8:1946"},
		{name: "IPv4 loopback is refused.", addr: "127.0.0.1", private: true},
		{name: "Any address of 127/8 is loopback and refused.", addr: "127.8.9.10", private: true},
		{name: "IPv6 loopback is refused.", addr: "::1", private: true},
		{name: "Loopback written as an IPv4-mapped IPv6 address is refused.", addr: "::ffff:127.0.0.1", private: true},
		{name: "RFC 1918 10/8 is refused.", addr: "10.1.2.3", private: true},
		{name: "RFC 1918 172.16/12 is refused.", addr: "172.31.255.255", private: true},
		{name: "172.32/16, just outside 172.16/12, may be reached.", addr: "172.32.0.1"},
		{name: "RFC 1918 192.168/16 is refused.", addr: "192.168.0.1", private: true},
		{name: "IPv6 unique local fc00::/7 is refused.", addr: "fd12:3456::1", private: true},
		{name: "The cloud metadata address is link-local and refused.", addr: "169.254.169.254", private: true},
		{name: "IPv6 link-local fe80::/10 is refused.", addr: "fe80::1", private: true},
		{name: "The unspecified IPv4 address is refused.", addr: "0.0.0.0", private: true},
		{name: "The unspecified IPv6 address is refused.", addr: "::", private: true},
		{name: "An address of 0/8 is refused: it is dialled as local.", addr: "0.1.2.3", private: true},
		{name: "IPv4 multicast is refused.", addr: "224.0.0.1", private: true},
		{name: "IPv6 multicast is refused.", addr: "ff02::1", private: true},
		{name: "CGNAT 100.64/10 is refused.", addr: "100.100.100.200", private: true},
		{name: "100.128.0.1, just outside CGNAT, may be reached.", addr: "100.128.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Private(netip.MustParseAddr(tt.addr)); got != tt.private {
				t.Errorf("Private(%s) = %v, want %v", tt.addr, got, tt.private)
			}
		})
	}
}

func TestControl(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		address string
		refused bool
	}{
		{name: "A public address and port is dialled.", address: "93.184.216.34:443"},
		{name: "A loopback address and port is refused.", address: "127.0.0.1:443", refused: true},
		{name: "A bracketed IPv6 link-local address is refused.", address: "[fe80::1]:443", refused: true},
		{name: "An address that is not an IP and port is refused rather than dialled unchecked.", address: "localhost:443", refused: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Control("tcp", tt.address, nil)
			if errors.Is(err, ErrPrivate) != tt.refused || (err != nil && !tt.refused) {
				t.Errorf("Control(%s) = %v, want refused %v", tt.address, err, tt.refused)
			}
		})
	}
}
