// Package urlmatch decides whether what an activity names (an application
// name or a URL) matches a pattern: an application, a host, a path prefix
// or a regular expression. Productivity categories (report) and redaction
// at ingest share it, so that one pattern means the same everywhere.
//
// Patterns come from organization admins, so compiling validates them:
// regular expressions are RE2 (linear time whatever the input, so a rule
// cannot stall a summary or an upload) and every pattern is bounded in
// length.
package urlmatch

import (
	"errors"
	"net/url"
	"regexp"
	"strings"
)

// Kind is what a pattern is matched against.
type Kind string

const (
	// App matches an application name (an activity that is not a URL),
	// ignoring case and surrounding space.
	App Kind = "app"
	// Host matches a URL whose host is the pattern or one of its
	// subdomains, ignoring case and a leading "www.".
	Host Kind = "host"
	// PathPrefix matches a URL whose path starts with the pattern's path
	// at a segment boundary: "/admin" matches "/admin" and "/admin/x" but
	// not "/administrator". A pattern "host/path" also requires the host
	// (as Host does); one starting with "/" matches any host.
	PathPrefix Kind = "path_prefix"
	// Regex matches when the RE2 expression matches anywhere in the
	// activity's text as tracked (anchor it with ^ and $ for all of it).
	Regex Kind = "regex"
)

// Kinds lists every kind, for validation messages.
var Kinds = []string{string(App), string(Host), string(PathPrefix), string(Regex)}

// MaxPatternLength bounds a pattern, in bytes.
const MaxPatternLength = 512

// Errors of Compile; their text is written to be shown to the admin who
// wrote the pattern.
var (
	ErrKind    = errors.New("must be one of " + strings.Join(Kinds, ", "))
	ErrEmpty   = errors.New("must not be empty")
	ErrLength  = errors.New("must be at most 512 bytes")
	ErrHost    = errors.New("must be a host name such as example.com, without scheme, path or port")
	ErrPath    = errors.New(`must be a path such as /admin or a host and path such as example.com/admin`)
	ErrPattern = errors.New("must be a valid RE2 regular expression")
)

// Matcher is a compiled pattern; the zero value matches nothing.
type Matcher struct {
	kind Kind
	// host is the lower-cased host, path the path prefix (paths are case
	// sensitive) without a trailing "/", app the lower-cased application
	// name.
	host, path, app string
	re              *regexp.Regexp
}

// Compile validates and compiles a pattern of kind k.
func Compile(k Kind, pattern string) (Matcher, error) {
	if len(pattern) > MaxPatternLength {
		return Matcher{}, ErrLength
	}
	p := strings.TrimSpace(pattern)
	if p == "" {
		return Matcher{}, ErrEmpty
	}
	m := Matcher{kind: k}
	switch k {
	case App:
		m.app = strings.ToLower(p)
	case Host:
		h, ok := hostPattern(p)
		if !ok {
			return Matcher{}, ErrHost
		}
		m.host = h
	case PathPrefix:
		h, path, _ := strings.Cut(p, "/")
		if h != "" {
			var ok bool
			if m.host, ok = hostPattern(h); !ok {
				return Matcher{}, ErrPath
			}
		}
		m.path = "/" + strings.TrimRight(path, "/")
		if strings.ContainsAny(m.path, "?#") || (m.host == "" && m.path == "/") {
			return Matcher{}, ErrPath
		}
	case Regex:
		re, err := regexp.Compile(p)
		if err != nil {
			return Matcher{}, errors.Join(ErrPattern, err)
		}
		m.re = re
	default:
		return Matcher{}, ErrKind
	}
	return m, nil
}

// hostPattern normalizes a host pattern; ok is false when it is not a
// bare host name.
func hostPattern(h string) (string, bool) {
	h = strings.TrimPrefix(strings.ToLower(h), "www.")
	if h == "" || strings.ContainsAny(h, "/:?#@ \t*") || strings.HasPrefix(h, ".") || strings.HasSuffix(h, ".") {
		return "", false
	}
	return h, true
}

// Target is an activity's text taken apart once for any number of
// matchers.
type Target struct {
	// Text is the activity as tracked.
	Text string
	// IsURL tells a URL (with a scheme) from an application name.
	IsURL bool
	// Host is the lower-cased host without "www.", Path the decoded path
	// ("/" when empty), of a URL; App the lower-cased trimmed text of an
	// application name.
	Host, Path, App string
}

// schemeRE is what makes a text a URL, as reporting.app_name decides.
var schemeRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*://`)

// Parse takes an activity's text apart. A text with a scheme that does
// not parse is matched as a URL without host and path, by Regex only.
func Parse(text string) Target {
	t := Target{Text: text}
	if !schemeRE.MatchString(text) {
		t.App = strings.ToLower(strings.TrimSpace(text))
		return t
	}
	t.IsURL = true
	u, err := url.Parse(text)
	if err != nil {
		return t
	}
	t.Host = strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.")
	t.Path = u.Path
	if t.Path == "" {
		t.Path = "/"
	}
	return t
}

// Match tells whether m matches t.
func (m Matcher) Match(t Target) bool {
	switch m.kind {
	case App:
		return !t.IsURL && t.App == m.app
	case Host:
		return t.IsURL && hostMatches(t.Host, m.host)
	case PathPrefix:
		if !t.IsURL || (m.host != "" && !hostMatches(t.Host, m.host)) {
			return false
		}
		rest, ok := strings.CutPrefix(t.Path, m.path)
		return ok && (rest == "" || rest[0] == '/' || m.path == "/")
	case Regex:
		return m.re.MatchString(t.Text)
	}
	return false
}

// hostMatches tells whether host is pattern or a subdomain of it.
func hostMatches(host, pattern string) bool {
	if host == "" {
		return false
	}
	rest, ok := strings.CutSuffix(host, pattern)
	return ok && (rest == "" || strings.HasSuffix(rest, "."))
}
