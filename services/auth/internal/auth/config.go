package auth

import (
	"math"
	"net"
	"runtime/debug"
	"strings"
	"time"

	"github.com/workpulse/workpulse/services/platform/config"
	"github.com/workpulse/workpulse/services/platform/export"
	"github.com/workpulse/workpulse/services/platform/sealbox"
)

// Config is auth's own configuration.
type Config struct {
	Issuer string
	// LegacyJWTSecret accepts the replaced system's tokens (config.Common).
	LegacyJWTSecret string
	TokenTTL        time.Duration
	// RefreshTTL is how long a session may go on refreshing its tokens.
	RefreshTTL time.Duration
	// DeviceTokenTTL is how long a desktop agent's device token lasts;
	// signing keys stay published that long after they retire.
	DeviceTokenTTL time.Duration
	KeyRotation    time.Duration
	Throttle       ThrottleLimits
	TrustedProxies []*net.IPNet
	// HashSlots and HashQueue bound the password hashes in memory at once
	// and the callers waiting for one.
	HashSlots int
	HashQueue int
	// OperatorToken guards the internal tenant API; empty disables it.
	OperatorToken string
	// KeyCipher seals the signing keys and SSO client secrets at rest;
	// nil (no SIGNING_KEY_ENCRYPTION_KEY) stores them as they are.
	KeyCipher *sealbox.Cipher
	// SelfRegistration lets anyone register a new organization; off, only
	// invitations add people (and the operator organizations).
	SelfRegistration bool
	// PublicURL is where people open the web app: links in mail point
	// there, and single sign-on sends browsers back to its /sso/callback.
	// Empty, neither works.
	PublicURL string
	// SSOAllowPrivateIssuers lets organizations name OpenID Providers on
	// loopback, private or link-local addresses, or over plain http: off,
	// an organization's admin cannot make auth call into the cluster's
	// own network.
	SSOAllowPrivateIssuers bool
	Mail                   MailConfig
	Reset                  ResetConfig
	// ExportParts are the services auth asks for their parts of a
	// member's export, in the export's order: each reads its own schema.
	ExportParts []ExportPart
	Export      export.Limits
}

// ExportPart is a service holding part of a member's export: Name is the
// part's key in the export, URL the service's base URL.
type ExportPart struct {
	Name, URL string
}

// LoadConfig reads auth's settings.
func LoadConfig(e *config.Env, common config.Common) Config {
	publicURL := strings.TrimRight(e.URL("PUBLIC_URL", "", "http", "https"), "/")
	c := Config{
		Issuer:          common.JWTIssuer,
		LegacyJWTSecret: common.LegacyJWTSecret,
		TokenTTL:        e.Duration("JWT_EXPIRATION", 15*time.Minute, time.Second, 30*24*time.Hour),
		RefreshTTL:      e.Duration("REFRESH_TOKEN_TTL", 30*24*time.Hour, time.Minute, 365*24*time.Hour),
		DeviceTokenTTL:  e.Duration("DEVICE_TOKEN_TTL", 365*24*time.Hour, time.Hour, 5*365*24*time.Hour),
		KeyRotation:     e.Duration("JWT_KEY_ROTATION", 30*24*time.Hour, time.Minute, 365*24*time.Hour),
		Throttle: ThrottleLimits{
			Window:      e.Duration("LOGIN_THROTTLE_WINDOW", 15*time.Minute, time.Second, 24*time.Hour),
			FreeByEmail: e.Int("LOGIN_MAX_FAILURES_PER_EMAIL", 5, 1, 1000),
			MaxByIP:     e.Int("LOGIN_MAX_FAILURES_PER_IP", 50, 1, 100000),
			BaseDelay:   e.Duration("LOGIN_DELAY", time.Second, time.Millisecond, time.Hour),
			MaxDelay:    e.Duration("LOGIN_MAX_DELAY", time.Minute, time.Millisecond, 24*time.Hour),
			RegWindow:   e.Duration("REGISTER_THROTTLE_WINDOW", time.Hour, time.Second, 24*time.Hour),
			MaxRegByIP:  e.Int("REGISTER_MAX_PER_IP", 20, 1, 100000),
		},
		OperatorToken:          e.String("OPERATOR_TOKEN", ""),
		SelfRegistration:       e.Bool("SELF_REGISTRATION", true),
		PublicURL:              publicURL,
		SSOAllowPrivateIssuers: e.Bool("SSO_ALLOW_PRIVATE_ISSUERS", false),
		Mail:                   loadMailConfig(e, publicURL),
		Reset:                  loadResetConfig(e),
		ExportParts: []ExportPart{
			{Name: "tracking", URL: strings.TrimRight(e.URL("INGEST_URL", "http://127.0.0.1:3003", "http", "https"), "/")},
			{Name: "reporting", URL: strings.TrimRight(e.URL("REPORT_URL", "http://127.0.0.1:3004", "http", "https"), "/")},
		},
		Export: export.LimitsOf(common),
	}
	// Each hash allocates argon2's memory at once; by default a quarter of
	// the Go memory limit (GOMEMLIMIT, set from the container's limit)
	// goes to hashing, or 64 MiB without a limit (auth's command sets one
	// when GOMEMLIMIT is not). The rest is the
	// service's own (about 60 MiB), a thousand connections' buffers and
	// the collector's headroom: with half the limit for hashing, 1,000
	// concurrent logins peaked above a 256 MiB limit.
	budget := int64(64 << 20)
	if limit := debug.SetMemoryLimit(-1); limit != math.MaxInt64 {
		budget = limit / 4
	}
	c.KeyCipher = sealbox.FromEnv(e)
	c.HashSlots = e.Int("PASSWORD_HASH_CONCURRENCY", HashSlots(budget), 1, 1024)
	// At least 16 waiting: with a small limit (one slot) the sign-ins of an
	// office arriving at once still wait their turn instead of being refused;
	// a waiting caller holds a goroutine, not a hash's memory.
	c.HashQueue = e.Int("PASSWORD_HASH_QUEUE", max(16, 4*c.HashSlots), 0, 100000)
	for _, cidr := range e.List("TRUSTED_PROXY_CIDRS", []string{"127.0.0.0/8", "::1/128"}) {
		_, n, err := net.ParseCIDR(cidr)
		if err != nil {
			e.Fail("TRUSTED_PROXY_CIDRS", "%q is not a CIDR", cidr)
			continue
		}
		c.TrustedProxies = append(c.TrustedProxies, n)
	}
	return c
}
