package kafkax_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"io"
	"log/slog"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/workpulse/workpulse/test/broker"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/workpulse/workpulse/api/events"
	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/platform/kafkax"
)

// selfSigned returns a server certificate for 127.0.0.1 and a pool that trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	// TLS checks a certificate's validity against the wall clock.
	now := clock.Real.Now()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kafka"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

func TestClientsReachABrokerThatRequiresTLSAndSCRAM(t *testing.T) {
	cert, pool := selfSigned(t)
	c, err := broker.Start("127.0.0.1:0", 3, kfake.TLS(&tls.Config{Certificates: []tls.Certificate{cert}}),
		kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-256", "workpulse", "broker-secret"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	brokers := c.ListenAddrs()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	secure, err := kafkax.NewSecurity(true, "SCRAM-SHA-256", "workpulse", "broker-secret")
	if err != nil {
		t.Fatal(err)
	}
	secure.TLS.RootCAs = pool
	wrongPassword, _ := kafkax.NewSecurity(true, "SCRAM-SHA-256", "workpulse", "guess")
	wrongPassword.TLS.RootCAs = pool
	for name, sec := range map[string]kafkax.Security{"plaintext": {}, "a wrong password": wrongPassword} {
		pctx, pcancel := context.WithTimeout(ctx, 5*time.Second)
		if err := kafkax.Ping(pctx, brokers, sec); err == nil {
			t.Errorf("a client with %s reached the broker", name)
		}
		pcancel()
	}
	if err := kafkax.Ping(ctx, brokers, secure); err != nil {
		t.Fatalf("ping with TLS and SCRAM: %v", err)
	}
	if err := kafkax.EnsureTopics(ctx, brokers, secure, 3, "workpulse.secure-test"); err != nil {
		t.Fatalf("topics with TLS and SCRAM: %v", err)
	}

	w := kafkax.NewSecureWriter(brokers, secure)
	defer w.Close()
	org := uuid.NewString()
	e, _ := events.New(clock.Real.Now(), "test", events.TypeTenantUpdated, org, "", events.TenantUpdated{OrganizationID: org})
	raw, _ := json.Marshal(e)
	if err := w.WriteMessages(ctx, kafka.Message{Topic: events.TopicTenants, Key: []byte(e.Key), Value: raw}); err != nil {
		t.Fatalf("produce with TLS and SCRAM: %v", err)
	}
	got := make(chan string, 1)
	consumer := kafkax.NewConsumer(kafkax.ConsumerConfig{Brokers: brokers, Security: secure, GroupID: "secure", Topics: []string{events.TopicTenants}},
		func(_ context.Context, ev events.Envelope) error { got <- ev.ID; return nil }, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	go consumer.Run(ctx)
	select {
	case id := <-got:
		if id != e.ID {
			t.Fatalf("consumed %s; want %s", id, e.ID)
		}
	case <-ctx.Done():
		t.Fatal("nothing consumed with TLS and SCRAM")
	}
}

func TestSecuritySettingsAreValidated(t *testing.T) {
	cases := []struct {
		name                string
		mechanism, user, pw string
		ok                  bool
	}{
		{"No SASL is plaintext authentication.", "", "", "", true},
		{"SCRAM-SHA-512 with credentials is accepted.", "scram-sha-512", "u", "p", true},
		{"PLAIN with credentials is accepted.", "PLAIN", "u", "p", true},
		{"An unknown mechanism is refused.", "GSSAPI", "u", "p", false},
		{"SCRAM without a password is refused.", "SCRAM-SHA-256", "u", "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := kafkax.NewSecurity(false, c.mechanism, c.user, c.pw); (err == nil) != c.ok {
				t.Fatalf("err = %v; want ok %v", err, c.ok)
			}
		})
	}
}
