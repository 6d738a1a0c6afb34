// Package config reads service configuration from environment variables
// with defaults, collecting every problem so that start-up fails once with
// the full list.
package config

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Env reads typed values from a lookup function (os.LookupEnv in
// production, a map in tests).
type Env struct {
	lookup func(string) (string, bool)
	errs   []error
}

// NewEnv reads from lookup.
func NewEnv(lookup func(string) (string, bool)) *Env { return &Env{lookup: lookup} }

// FromMap reads from m; handy in tests.
func FromMap(m map[string]string) *Env {
	return NewEnv(func(k string) (string, bool) { v, ok := m[k]; return v, ok })
}

func (e *Env) raw(key string) (string, bool) {
	v, ok := e.lookup(key)
	if !ok || strings.TrimSpace(v) == "" {
		return "", false
	}
	return strings.TrimSpace(v), true
}

// Has tells whether key is in the environment at all, even empty.
func (e *Env) Has(key string) bool {
	_, ok := e.lookup(key)
	return ok
}

// Fail records a problem with key found by the caller's own validation.
func (e *Env) Fail(key, format string, a ...any) { e.fail(key, format, a...) }

func (e *Env) fail(key, format string, a ...any) {
	e.errs = append(e.errs, fmt.Errorf("%s: "+format, append([]any{key}, a...)...))
}

// String returns the value of key or def.
func (e *Env) String(key, def string) string {
	if v, ok := e.raw(key); ok {
		return v
	}
	return def
}

// Required returns the value of key and records an error when it is unset.
func (e *Env) Required(key string) string {
	v, ok := e.raw(key)
	if !ok {
		e.fail(key, "is required")
	}
	return v
}

// Int returns key as an integer within [min, max], or def.
func (e *Env) Int(key string, def, min, max int) int {
	v, ok := e.raw(key)
	if !ok {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min || n > max {
		e.fail(key, "must be an integer from %d to %d", min, max)
		return def
	}
	return n
}

// Duration returns key as a Go duration (e.g. "24h") within [min, max], or def.
func (e *Env) Duration(key string, def, min, max time.Duration) time.Duration {
	v, ok := e.raw(key)
	if !ok {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < min || d > max {
		e.fail(key, "must be a duration from %s to %s", min, max)
		return def
	}
	return d
}

// Bool returns key as a boolean, or def.
func (e *Env) Bool(key string, def bool) bool {
	v, ok := e.raw(key)
	if !ok {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		e.fail(key, "must be true or false")
		return def
	}
	return b
}

// List returns key split on commas, or def.
func (e *Env) List(key string, def []string) []string {
	v, ok := e.raw(key)
	if !ok {
		return def
	}
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// URL returns key as an absolute URL with one of the schemes, or def.
func (e *Env) URL(key, def string, schemes ...string) string {
	v := e.String(key, def)
	if v == "" {
		return v
	}
	u, err := url.Parse(v)
	if err != nil || u.Host == "" {
		e.fail(key, "must be an absolute URL")
		return v
	}
	for _, s := range schemes {
		if u.Scheme == s {
			return v
		}
	}
	e.fail(key, "scheme must be one of %s", strings.Join(schemes, ", "))
	return v
}

// Pairs reads a comma-separated list of name=value pairs into a map.
func (e *Env) Pairs(key string) map[string]string {
	out := map[string]string{}
	for _, p := range e.List(key, nil) {
		name, v, ok := strings.Cut(p, "=")
		if !ok || name == "" {
			e.Fail(key, "%q is not name=value", p)
			continue
		}
		out[name] = v
	}
	return out
}

// Err returns every problem found, or nil.
func (e *Env) Err() error { return errors.Join(e.errs...) }

// Origins returns key as a comma list of browser origins
// (scheme://host[:port], lower-cased), or def. "*" stands for any origin and
// must then be the only entry.
func (e *Env) Origins(key string, def []string) []string {
	list := e.List(key, def)
	if len(list) == 0 {
		e.fail(key, "must list at least one origin or be *")
		return def
	}
	out := make([]string, 0, len(list))
	for _, o := range list {
		if o == "*" {
			if len(list) > 1 {
				e.fail(key, "* allows every origin and cannot be combined with others")
				return def
			}
			return []string{"*"}
		}
		u, err := url.Parse(strings.ToLower(o))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
			e.fail(key, "%q is not an origin such as https://app.example.com", o)
			continue
		}
		out = append(out, u.Scheme+"://"+u.Host)
	}
	return out
}

// OneOf returns key when it is one of allowed, or def.
func (e *Env) OneOf(key, def string, allowed ...string) string {
	v := e.String(key, def)
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	e.fail(key, "must be one of %s", strings.Join(allowed, ", "))
	return def
}
