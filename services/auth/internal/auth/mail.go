package auth

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/smtp"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/platform/config"
	"github.com/workpulse/workpulse/services/platform/sealbox"
	"github.com/workpulse/workpulse/services/platform/validate"
)

// SMTP transport security: STARTTLS on a submission port (the default,
// required when the server does not offer it), TLS from the first byte
// (port 465), or none for a relay on a trusted network.
const (
	SMTPStartTLS = "starttls"
	SMTPTLS      = "tls"
	SMTPNone     = "none"
)

// MailConfig is how auth sends mail. With no Host, no mail is sent:
// password resets are unavailable and invitations are handed over by
// their token only.
type MailConfig struct {
	Host     string
	Port     int
	Username string
	// Password is the SMTP secret; it is never logged.
	Password string
	From     string
	Security string
	// Timeout bounds one delivery, from the connection to QUIT.
	Timeout time.Duration
	// MaxAttempts is how often a message is tried before it is dropped.
	MaxAttempts int
	// PollInterval is how often the sender looks for queued mail.
	PollInterval time.Duration
}

// Enabled reports whether mail is configured.
func (c MailConfig) Enabled() bool { return c.Host != "" }

// String leaves the password out, so that printing the settings never
// prints the secret.
func (c MailConfig) String() string {
	return fmt.Sprintf("smtp %s:%d (%s) from %s", c.Host, c.Port, c.Security, c.From)
}

// loadMailConfig reads the SMTP settings; publicURL is the links' base.
func loadMailConfig(e *config.Env, publicURL string) MailConfig {
	c := MailConfig{
		Host:         e.String("SMTP_HOST", ""),
		Port:         e.Int("SMTP_PORT", 587, 1, 65535),
		Username:     e.String("SMTP_USERNAME", ""),
		Password:     e.String("SMTP_PASSWORD", ""),
		From:         e.String("SMTP_FROM", ""),
		Security:     e.OneOf("SMTP_SECURITY", SMTPStartTLS, SMTPStartTLS, SMTPTLS, SMTPNone),
		Timeout:      e.Duration("SMTP_TIMEOUT", 10*time.Second, 100*time.Millisecond, 5*time.Minute),
		MaxAttempts:  e.Int("MAIL_MAX_ATTEMPTS", 10, 1, 100),
		PollInterval: e.Duration("MAIL_POLL_INTERVAL", time.Second, 10*time.Millisecond, time.Minute),
	}
	if !c.Enabled() {
		return c
	}
	var v validate.Fields
	if v.Email("from", c.From); v.Err() != nil {
		e.Fail("SMTP_FROM", "must be the sender's email address when SMTP_HOST is set")
	}
	if publicURL == "" {
		e.Fail("PUBLIC_URL", "must be the web app's http(s) address when SMTP_HOST is set, for the links in mail")
	}
	if (c.Username == "") != (c.Password == "") {
		e.Fail("SMTP_USERNAME", "and SMTP_PASSWORD are set together or not at all")
	}
	return c
}

// queueMail adds a message to the mail outbox of the transaction's
// organization; it is sent once the transaction commits. The body holds
// a reset or invitation link, which is as good as the account until it
// is spent: it is sealed like the SSO client secrets, so that a copy of
// the database does not hold it, and only the sender opens it.
func (s *Store) queueMail(ctx context.Context, q pgx.Tx, orgID, to, subject, body string) error {
	_, err := q.Exec(ctx, "INSERT INTO auth.mail_outbox (organization_id, recipient, subject, body) VALUES ($1, $2, $3, $4)",
		orgID, to, subject, s.cipher.SealSecret(mailAD(orgID, to), []byte(body)))
	return err
}

// mailAD binds a sealed body to its organization and recipient, so that
// a body moved to another row (another recipient) does not open.
func mailAD(orgID, to string) string { return "mail:" + orgID + ":" + to }

// Mailer delivers the mail outbox: each due message is sent under a row
// lock (replicas share the queue through SKIP LOCKED), deleted once the
// server accepted it, and otherwise retried with a growing delay up to
// MaxAttempts.
type Mailer struct {
	store     *Store
	cfg       MailConfig
	log       *slog.Logger
	sent      prometheus.Counter
	failures  prometheus.Counter
	abandoned prometheus.Counter
}

// NewMailer returns the sender of db's mail outbox, registering its
// metrics on reg; c opens the bodies queueMail sealed.
func NewMailer(db *pgxpool.Pool, cfg MailConfig, c *sealbox.Cipher, reg prometheus.Registerer, log *slog.Logger, clk clock.Clock) *Mailer {
	m := &Mailer{store: &Store{db: db, clock: clk, cipher: c}, cfg: cfg, log: log,
		sent: prometheus.NewCounter(prometheus.CounterOpts{Name: "workpulse_mail_sent_total",
			Help: "Messages the SMTP server accepted."}),
		failures: prometheus.NewCounter(prometheus.CounterOpts{Name: "workpulse_mail_send_failures_total",
			Help: "Failed attempts to deliver a message (retried with backoff)."}),
		abandoned: prometheus.NewCounter(prometheus.CounterOpts{Name: "workpulse_mail_abandoned_total",
			Help: "Messages dropped after their last attempt failed."}),
	}
	reg.MustRegister(m.sent, m.failures, m.abandoned)
	return m
}

// Run delivers until ctx is done, for app.Service.Workers.
func (m *Mailer) Run(ctx context.Context) error {
	clock.Every(ctx, m.cfg.PollInterval, func(ctx context.Context) {
		if _, err := m.SendDue(ctx); err != nil && ctx.Err() == nil {
			m.log.Warn("mail delivery failed", "err", err)
		}
	})
	return nil
}

// SendDue delivers the due messages one by one and returns how many the
// server accepted. It stops at the first failure: the server is likely
// down for the rest too, and they wait for the next pass.
func (m *Mailer) SendDue(ctx context.Context) (int, error) {
	n := 0
	for {
		found, err := m.store.sendNextMail(ctx, m.cfg.MaxAttempts, m.deliver)
		switch {
		case errors.Is(err, errMailAbandoned):
			m.failures.Inc()
			m.abandoned.Inc()
			return n, err
		case err != nil:
			m.failures.Inc()
			return n, err
		case !found:
			return n, nil
		}
		m.sent.Inc()
		n++
	}
}

// errMailAbandoned marks a message whose last attempt failed.
var errMailAbandoned = errors.New("auth: mail abandoned after its last attempt")

// queuedMail is a message of the mail outbox.
type queuedMail struct {
	ID                 int64
	To, Subject, Body  string
	AttemptsBeforeThis int
}

// deliver sends msg over one SMTP connection within the timeout.
func (m *Mailer) deliver(ctx context.Context, msg queuedMail) error {
	ctx, cancel := context.WithTimeout(ctx, m.cfg.Timeout)
	defer cancel()
	err := m.converse(ctx, msg)
	if err != nil && ctx.Err() != nil {
		// The connection was closed under the conversation: its error
		// says less than the timeout does.
		return fmt.Errorf("the SMTP server did not finish within %v: %w", m.cfg.Timeout, ctx.Err())
	}
	return err
}

// converse is the SMTP conversation delivering msg; ending ctx ends it.
func (m *Mailer) converse(ctx context.Context, msg queuedMail) error {
	addr := net.JoinHostPort(m.cfg.Host, strconv.Itoa(m.cfg.Port))
	tlsConfig := &tls.Config{ServerName: m.cfg.Host, MinVersion: tls.VersionTLS12}
	var conn net.Conn
	var err error
	if m.cfg.Security == SMTPTLS {
		conn, err = (&tls.Dialer{Config: tlsConfig}).DialContext(ctx, "tcp", addr)
	} else {
		conn, err = (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return err
	}
	// net/smtp takes no context: closing the connection is what ends a
	// server that stops answering.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	c, err := smtp.NewClient(conn, m.cfg.Host)
	if err != nil {
		conn.Close()
		return err
	}
	defer c.Close()
	if m.cfg.Security == SMTPStartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return errors.New("the SMTP server does not offer STARTTLS (SMTP_SECURITY=starttls)")
		}
		if err := c.StartTLS(tlsConfig); err != nil {
			return err
		}
	}
	if m.cfg.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", m.cfg.Username, m.cfg.Password, m.cfg.Host)); err != nil {
			return err
		}
	}
	if err := c.Mail(m.cfg.From); err != nil {
		return err
	}
	if err := c.Rcpt(msg.To); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if err := m.compose(w, msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// compose writes msg as a plain-text message in quoted-printable.
func (m *Mailer) compose(w interface{ Write([]byte) (int, error) }, msg queuedMail) error {
	id, err := newSecret()
	if err != nil {
		return err
	}
	domain := m.cfg.From[strings.LastIndexByte(m.cfg.From, '@')+1:]
	headers := []string{
		"From: " + mime.QEncoding.Encode("utf-8", "WorkPulse") + " <" + m.cfg.From + ">",
		"To: <" + msg.To + ">",
		"Subject: " + mime.QEncoding.Encode("utf-8", headerSafe(msg.Subject)),
		"Date: " + m.store.clock.Now().UTC().Format(time.RFC1123Z),
		"Message-ID: <" + id + "@" + domain + ">",
		"MIME-Version: 1.0",
		"Content-Type: text/plain; charset=utf-8",
		"Content-Transfer-Encoding: quoted-printable",
	}
	if _, err := w.Write([]byte(strings.Join(headers, "\r\n") + "\r\n\r\n")); err != nil {
		return err
	}
	qp := quotedprintable.NewWriter(w)
	if _, err := qp.Write([]byte(msg.Body)); err != nil {
		return err
	}
	return qp.Close()
}

// headerSafe keeps a header value on one line: a name in a subject must
// not start a header of its own.
func headerSafe(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
