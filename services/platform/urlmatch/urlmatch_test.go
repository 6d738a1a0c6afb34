package urlmatch_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/workpulse/workpulse/services/platform/urlmatch"
)

func TestMatch(t *testing.T) {
	tests := []struct {
		name    string
		kind    urlmatch.Kind
		pattern string
		text    string
		want    bool
	}{
		{"an application matches its name ignoring case and space", urlmatch.App, "Visual Studio Code", " visual studio code ", true},
		{"an application does not match another application", urlmatch.App, "Slack", "Slacker", false},
		{"an application does not match a URL naming it", urlmatch.App, "github.com", "https://github.com/", false},
		{"a host matches its URLs", urlmatch.Host, "github.com", "https://github.com/workpulse", true},
		{"a host matches its subdomains", urlmatch.Host, "example.com", "https://docs.example.com/x", true},
		{"a host ignores www and case", urlmatch.Host, "WWW.Example.com", "http://www.EXAMPLE.com", true},
		{"a host does not match a host ending in the same letters", urlmatch.Host, "example.com", "https://badexample.com/", false},
		{"a host does not match an application of that name", urlmatch.Host, "example.com", "example.com", false},
		{"a host ignores the port and user", urlmatch.Host, "example.com", "https://me@example.com:8443/a", true},
		{"a path prefix of any host matches the path", urlmatch.PathPrefix, "/admin", "https://a.test/admin/users", true},
		{"a path prefix matches the path itself", urlmatch.PathPrefix, "/admin/", "https://a.test/admin", true},
		{"a path prefix stops at a segment boundary", urlmatch.PathPrefix, "/admin", "https://a.test/administrator", false},
		{"a path prefix is case sensitive", urlmatch.PathPrefix, "/Admin", "https://a.test/admin", false},
		{"a path prefix with a host requires the host", urlmatch.PathPrefix, "github.com/workpulse", "https://gitlab.com/workpulse", false},
		{"a path prefix with a host matches below it", urlmatch.PathPrefix, "github.com/workpulse", "https://github.com/workpulse/api/pulls", true},
		{"a path prefix ignores the query", urlmatch.PathPrefix, "/search", "https://a.test/search?q=x", true},
		{"a regular expression matches anywhere in the text", urlmatch.Regex, `youtube\.com/watch`, "https://www.youtube.com/watch?v=1", true},
		{"an anchored regular expression matches all of it only", urlmatch.Regex, `^slack$`, "Slack app", false},
		{"a regular expression matches application names too", urlmatch.Regex, `(?i)^slack`, "Slack", true},
		{"a URL that does not parse matches no host", urlmatch.Host, "a.test", "http://a.test/%zz", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := urlmatch.Compile(tt.kind, tt.pattern)
			if err != nil {
				t.Fatalf("Compile(%s, %q): %v", tt.kind, tt.pattern, err)
			}
			if got := m.Match(urlmatch.Parse(tt.text)); got != tt.want {
				t.Fatalf("%s %q matching %q = %v, want %v", tt.kind, tt.pattern, tt.text, got, tt.want)
			}
		})
	}
}

func TestCompileRejects(t *testing.T) {
	tests := []struct {
		name    string
		kind    urlmatch.Kind
		pattern string
		want    error
	}{
		{"an unknown kind", "glob", "*.com", urlmatch.ErrKind},
		{"an empty pattern", urlmatch.Host, "  ", urlmatch.ErrEmpty},
		{"a pattern over the length bound", urlmatch.Regex, strings.Repeat("a", urlmatch.MaxPatternLength+1), urlmatch.ErrLength},
		{"a host with a scheme", urlmatch.Host, "https://example.com", urlmatch.ErrHost},
		{"a host with a wildcard", urlmatch.Host, "*.example.com", urlmatch.ErrHost},
		{"a host with a port", urlmatch.Host, "example.com:80", urlmatch.ErrHost},
		{"a path prefix that is only a slash", urlmatch.PathPrefix, "/", urlmatch.ErrPath},
		{"a path prefix with a query", urlmatch.PathPrefix, "/search?q", urlmatch.ErrPath},
		{"a path prefix with a bad host", urlmatch.PathPrefix, "a b/x", urlmatch.ErrPath},
		{"a regular expression with a back-reference RE2 lacks", urlmatch.Regex, `(a)\1`, urlmatch.ErrPattern},
		{"a regular expression repeating beyond RE2's bound", urlmatch.Regex, `a{1001}`, urlmatch.ErrPattern},
		{"an unbalanced regular expression", urlmatch.Regex, `(`, urlmatch.ErrPattern},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := urlmatch.Compile(tt.kind, tt.pattern); !errors.Is(err, tt.want) {
				t.Fatalf("Compile(%s, %q) = %v, want %v", tt.kind, tt.pattern, err, tt.want)
			}
		})
	}
}

func TestZeroMatcherMatchesNothing(t *testing.T) {
	var m urlmatch.Matcher
	for _, text := range []string{"", "Slack", "https://a.test/"} {
		if m.Match(urlmatch.Parse(text)) {
			t.Fatalf("the zero Matcher matched %q", text)
		}
	}
}
