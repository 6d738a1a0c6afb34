// Command cluster-dns answers the cluster's Service names for the local
// node (hack/cluster), which has no CoreDNS image: <svc>.<ns>.svc.<domain>
// resolves to the ClusterIP, or to the ready endpoints of a headless
// Service, and <hostname>.<svc>.<ns>.svc.<domain> to that endpoint.
//
// It reads Services and EndpointSlices from the API server with the pod's
// service account every -interval, and answers only names under -domain:
// everything else is NXDOMAIN, because nothing is forwarded off the machine.
// It listens on an unprivileged port (UDP and TCP); the Service maps 53 to it.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/workpulse/workpulse/services/platform/clock"
)

const saDir = "/var/run/secrets/kubernetes.io/serviceaccount"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := run(ctx, clock.Real); err != nil {
		slog.Error("cluster-dns stopped", "err", err)
		os.Exit(1)
	}
}

func env(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func run(ctx context.Context, clk clock.Clock) error {
	domain := strings.Trim(env("CLUSTER_DOMAIN", "cluster.local"), ".") + "."
	dnsAddr := env("DNS_ADDR", ":5353")
	healthAddr := env("HEALTH_ADDR", ":8080")
	interval, err := time.ParseDuration(env("SYNC_INTERVAL", "2s"))
	if err != nil {
		return fmt.Errorf("SYNC_INTERVAL: %w", err)
	}
	api, err := newAPIClient()
	if err != nil {
		return err
	}
	z := &zone{domain: domain}

	udp, err := net.ListenPacket("udp", dnsAddr)
	if err != nil {
		return err
	}
	tcp, err := net.Listen("tcp", dnsAddr)
	if err != nil {
		return err
	}
	go serveUDP(udp, z)
	go serveTCP(tcp, z, clk)
	health := &http.Server{Addr: healthAddr, ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/readyz" && !z.synced.Load() {
			http.Error(w, "not synced with the API server yet", http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ok\n")
	})}
	go health.ListenAndServe()
	slog.Info("cluster-dns listening", "addr", dnsAddr, "domain", domain)

	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if recs, err := api.records(ctx, domain); err != nil {
			slog.Warn("sync failed", "err", err)
		} else {
			z.set(recs)
		}
		select {
		case <-ctx.Done():
			udp.Close()
			tcp.Close()
			return health.Close()
		case <-t.C:
		}
	}
}

// zone is the current name → addresses table.
type zone struct {
	domain string
	mu     sync.RWMutex
	recs   map[string][]netip.Addr
	synced atomic.Bool
}

func (z *zone) set(recs map[string][]netip.Addr) {
	z.mu.Lock()
	z.recs = recs
	z.mu.Unlock()
	z.synced.Store(true)
}

func (z *zone) lookup(name string) ([]netip.Addr, bool) {
	z.mu.RLock()
	defer z.mu.RUnlock()
	a, ok := z.recs[strings.ToLower(name)]
	return a, ok
}

// answer builds the response to one query message.
func (z *zone) answer(req []byte) ([]byte, error) {
	var p dnsmessage.Parser
	h, err := p.Start(req)
	if err != nil {
		return nil, err
	}
	q, err := p.Question()
	if err != nil {
		return nil, err
	}
	resp := dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RecursionDesired: h.RecursionDesired}
	name := q.Name.String()
	addrs, found := z.lookup(name)
	switch {
	case !strings.HasSuffix(strings.ToLower(name), z.domain):
		resp.RCode = dnsmessage.RCodeNameError
		resp.Authoritative = false
	case !found:
		resp.RCode = dnsmessage.RCodeNameError
	}
	b := dnsmessage.NewBuilder(make([]byte, 0, 512), resp)
	b.EnableCompression()
	if err := b.StartQuestions(); err != nil {
		return nil, err
	}
	if err := b.Question(q); err != nil {
		return nil, err
	}
	if err := b.StartAnswers(); err != nil {
		return nil, err
	}
	hdr := dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 5}
	for _, a := range addrs {
		switch {
		case q.Type == dnsmessage.TypeA && a.Is4():
			err = b.AResource(hdr, dnsmessage.AResource{A: a.As4()})
		case q.Type == dnsmessage.TypeAAAA && a.Is6():
			err = b.AAAAResource(hdr, dnsmessage.AAAAResource{AAAA: a.As16()})
		}
		if err != nil {
			return nil, err
		}
	}
	return b.Finish()
}

func serveUDP(c net.PacketConn, z *zone) {
	buf := make([]byte, 1500)
	for {
		n, from, err := c.ReadFrom(buf)
		if err != nil {
			return
		}
		if out, err := z.answer(buf[:n]); err == nil {
			c.WriteTo(out, from)
		}
	}
}

func serveTCP(l net.Listener, z *zone, clk clock.Clock) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			for {
				c.SetDeadline(clk.Now().Add(10 * time.Second))
				var size uint16
				if binary.Read(c, binary.BigEndian, &size) != nil {
					return
				}
				req := make([]byte, size)
				if _, err := io.ReadFull(c, req); err != nil {
					return
				}
				out, err := z.answer(req)
				if err != nil {
					return
				}
				if binary.Write(c, binary.BigEndian, uint16(len(out))) != nil || func() error { _, err := c.Write(out); return err }() != nil {
					return
				}
			}
		}()
	}
}

// apiClient lists from the API server as the pod's service account.
type apiClient struct {
	base  string
	token string
	http  *http.Client
}

func newAPIClient() (*apiClient, error) {
	host, port := os.Getenv("KUBERNETES_SERVICE_HOST"), os.Getenv("KUBERNETES_SERVICE_PORT")
	if host == "" || port == "" {
		return nil, errors.New("not running in a pod: KUBERNETES_SERVICE_HOST/PORT unset")
	}
	ca, err := os.ReadFile(saDir + "/ca.crt")
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return nil, errors.New("no certificate in the service account's ca.crt")
	}
	return &apiClient{
		base: "https://" + net.JoinHostPort(host, port),
		http: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}},
	}, nil
}

func (a *apiClient) get(ctx context.Context, path string, into any) error {
	// The projected token is rotated by the kubelet, so it is read each time.
	tok, err := os.ReadFile(saDir + "/token")
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.base+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(tok)))
	resp, err := a.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("GET %s: %s: %s", path, resp.Status, body)
	}
	return json.NewDecoder(resp.Body).Decode(into)
}

type serviceList struct {
	Items []struct {
		Metadata struct{ Name, Namespace string }
		Spec     struct {
			ClusterIPs []string `json:"clusterIPs"`
		}
	}
}

type sliceList struct {
	Items []struct {
		Metadata struct {
			Namespace string
			Labels    map[string]string
		}
		Endpoints []struct {
			Addresses  []string
			Hostname   string
			Conditions struct{ Ready *bool }
		}
	}
}

// records lists Services and EndpointSlices and turns them into names.
func (a *apiClient) records(ctx context.Context, domain string) (map[string][]netip.Addr, error) {
	var svcs serviceList
	if err := a.get(ctx, "/api/v1/services", &svcs); err != nil {
		return nil, err
	}
	var slices sliceList
	if err := a.get(ctx, "/apis/discovery.k8s.io/v1/endpointslices", &slices); err != nil {
		return nil, err
	}
	recs := map[string][]netip.Addr{}
	headless := map[string]bool{}
	for _, s := range svcs.Items {
		fqdn := strings.ToLower(s.Metadata.Name + "." + s.Metadata.Namespace + ".svc." + domain)
		recs[fqdn] = nil // exists even with no addresses: NOERROR, not NXDOMAIN
		for _, ip := range s.Spec.ClusterIPs {
			if addr, err := netip.ParseAddr(ip); err == nil {
				recs[fqdn] = append(recs[fqdn], addr)
			}
		}
		if len(recs[fqdn]) == 0 {
			headless[fqdn] = true
		}
	}
	for _, sl := range slices.Items {
		svc := sl.Metadata.Labels["kubernetes.io/service-name"]
		fqdn := strings.ToLower(svc + "." + sl.Metadata.Namespace + ".svc." + domain)
		if !headless[fqdn] {
			continue
		}
		for _, ep := range sl.Endpoints {
			if ep.Conditions.Ready != nil && !*ep.Conditions.Ready {
				continue
			}
			for _, ip := range ep.Addresses {
				addr, err := netip.ParseAddr(ip)
				if err != nil {
					continue
				}
				recs[fqdn] = append(recs[fqdn], addr)
				if ep.Hostname != "" {
					host := strings.ToLower(ep.Hostname) + "." + fqdn
					recs[host] = append(recs[host], addr)
				}
			}
		}
	}
	return recs, nil
}
