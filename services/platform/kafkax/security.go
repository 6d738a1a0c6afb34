package kafkax

import (
	"crypto/tls"
	"fmt"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/plain"
	"github.com/segmentio/kafka-go/sasl/scram"
)

// Security is how every connection to the brokers is encrypted and
// authenticated; the zero value is plaintext, as the in-process broker of
// make dev and the tests speaks. Managed Kafka and Strimzi's TLS or SCRAM
// listeners need TLS and SASL.
type Security struct {
	TLS  *tls.Config
	SASL sasl.Mechanism
}

// NewSecurity builds the security of KAFKA_TLS and KAFKA_SASL_*: mechanism
// is "", "PLAIN", "SCRAM-SHA-256" or "SCRAM-SHA-512". TLS trusts the
// system's roots (SSL_CERT_FILE adds a private CA).
func NewSecurity(useTLS bool, mechanism, username, password string) (Security, error) {
	var s Security
	if useTLS {
		s.TLS = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	var err error
	switch strings.ToUpper(mechanism) {
	case "":
	case "PLAIN":
		s.SASL = plain.Mechanism{Username: username, Password: password}
	case "SCRAM-SHA-256":
		s.SASL, err = scram.Mechanism(scram.SHA256, username, password)
	case "SCRAM-SHA-512":
		s.SASL, err = scram.Mechanism(scram.SHA512, username, password)
	default:
		return s, fmt.Errorf("kafka: SASL mechanism %q is not PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512", mechanism)
	}
	if err != nil {
		return s, fmt.Errorf("kafka: SASL: %w", err)
	}
	if s.SASL != nil && (username == "" || password == "") {
		return s, fmt.Errorf("kafka: SASL %s needs a username and a password", mechanism)
	}
	return s, nil
}

func (s Security) dialer() *kafka.Dialer {
	return &kafka.Dialer{Timeout: 10 * time.Second, DualStack: true, TLS: s.TLS, SASLMechanism: s.SASL}
}

func (s Security) transport() *kafka.Transport {
	return &kafka.Transport{DialTimeout: 10 * time.Second, TLS: s.TLS, SASL: s.SASL}
}
