package plugin

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/streaming/pkg/httpstream"
	"k8s.io/streaming/pkg/httpstream/spdy"
)

// kubelet is a node of the test's API server with the one kubelet endpoint `status` needs: the
// port-forward the API server relays to (SPDY, as a real kubelet speaks it, whether the plugin
// reached the API server over WebSocket or SPDY). Each forwarded port is a port on 127.0.0.1, so
// a pod's metrics port is the port of a server the test runs for it. envtest runs no kubelet of
// its own, and without one no pod is ever scraped.
func kubelet(t *testing.T) (node string) {
	t.Helper()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/portForward/") {
			http.NotFound(w, r)
			return
		}
		if _, err := httpstream.Handshake(r, w, []string{"portforward.k8s.io"}); err != nil {
			return
		}
		streams := make(chan httpstream.Stream)
		conn := spdy.NewResponseUpgrader().UpgradeResponse(w, r, func(s httpstream.Stream, replySent <-chan struct{}) error {
			go func() { <-replySent; streams <- s }()
			return nil
		})
		if conn == nil {
			return
		}
		defer conn.Close()
		for {
			select {
			case s := <-streams:
				go forward(s)
			case <-conn.CloseChan():
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	// The API server does not check a kubelet's serving certificate unless it is given its CA
	// (--kubelet-certificate-authority), which envtest does not give it.
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-" + strconv.Itoa(port)}}
	ctx := context.Background()
	if err := apiServer.client.Create(ctx, n); err != nil {
		t.Fatal(err)
	}
	n.Status = corev1.NodeStatus{Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "127.0.0.1"}},
		DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: int32(port)}}}
	if err := apiServer.client.Status().Update(ctx, n); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = apiServer.client.Delete(context.Background(), n) })
	return n.Name
}

// forward serves one stream of a port-forward: the data stream of a connection is joined to the
// port it names; its error stream is closed at once, as a kubelet does when there is no error.
func forward(s httpstream.Stream) {
	if s.Headers().Get(corev1.StreamType) != corev1.StreamTypeData {
		s.Close()
		return
	}
	target, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", s.Headers().Get(corev1.PortHeader)))
	if err != nil {
		_ = s.Reset()
		return
	}
	defer target.Close()
	go func() {
		_, _ = io.Copy(target, s)
		_ = target.(*net.TCPConn).CloseWrite()
	}()
	_, _ = io.Copy(s, target)
	s.Close()
}
