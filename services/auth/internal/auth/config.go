package auth

import (
	"net"
	"time"

	"github.com/workpulse/workpulse/services/platform/config"
)

// Config is auth's own configuration.
type Config struct {
	Issuer         string
	TokenTTL       time.Duration
	KeyRotation    time.Duration
	LoginWindow    time.Duration
	MaxFailByEmail int
	MaxFailByIP    int
	TrustedProxies []*net.IPNet
	// OperatorToken guards the internal tenant API; empty disables it.
	OperatorToken string
}

// LoadConfig reads auth's settings.
func LoadConfig(e *config.Env, common config.Common) Config {
	c := Config{
		Issuer:         common.JWTIssuer,
		TokenTTL:       e.Duration("JWT_EXPIRATION", 24*time.Hour, time.Minute, 30*24*time.Hour),
		KeyRotation:    e.Duration("JWT_KEY_ROTATION", 30*24*time.Hour, time.Minute, 365*24*time.Hour),
		LoginWindow:    e.Duration("LOGIN_THROTTLE_WINDOW", 15*time.Minute, time.Second, 24*time.Hour),
		MaxFailByEmail: e.Int("LOGIN_MAX_FAILURES_PER_EMAIL", 5, 1, 1000),
		MaxFailByIP:    e.Int("LOGIN_MAX_FAILURES_PER_IP", 50, 1, 100000),
		OperatorToken:  e.String("OPERATOR_TOKEN", ""),
	}
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
