package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/workpulse/workpulse/services/platform/apierr"
	"github.com/workpulse/workpulse/services/platform/feed"
	"github.com/workpulse/workpulse/services/platform/urlmatch"
	"github.com/workpulse/workpulse/services/platform/validate"
)

// Redaction actions: what of a matching activity's url is kept.
const (
	// actionHostOnly keeps the scheme and host of a URL; an application
	// name, having no host, is dropped.
	actionHostOnly = "host_only"
	// actionDropQuery drops the query string and fragment, where secrets
	// and search terms travel.
	actionDropQuery = "drop_query"
	// actionDrop stores the activity without a url.
	actionDrop = "drop"
	// actionCategory replaces the url with "category:" and the rule's
	// label, so that reports still tell kinds of work apart.
	actionCategory = "category"
)

var redactionActions = []string{actionHostOnly, actionDropQuery, actionDrop, actionCategory}

// Bounds of an organization's redaction rules: the first matching rule of
// up to maxRedactionRules applies to every activity, so their number
// bounds ingest's work per activity.
const (
	maxRedactionRules = 100
	maxCategoryLen    = 64
	categoryPrefix    = "category:"
)

// RedactionRule is one rule of the contract's redaction rules.
type RedactionRule struct {
	Match    urlmatch.Kind `json:"match"`
	Pattern  string        `json:"pattern"`
	Action   string        `json:"action"`
	Category string        `json:"category,omitempty"`
}

// RedactionRules is the body of GET and PUT
// /api/organization/redaction-rules.
type RedactionRules struct {
	Rules     []RedactionRule `json:"rules"`
	UpdatedAt *time.Time      `json:"updated_at"`
	UpdatedBy *string         `json:"updated_by"`
}

// redactionRulesInput is the body of PUT /api/organization/redaction-rules.
type redactionRulesInput struct {
	Rules []RedactionRule `json:"rules"`
}

// Validate checks every rule (httpx.DecodeBody calls it).
func (in redactionRulesInput) Validate() error {
	if in.Rules == nil {
		return apierr.InvalidField("rules", "is required", nil)
	}
	_, err := compileRules(in.Rules)
	return err
}

// redactor applies an organization's compiled rules; the zero value
// keeps every url as sent.
type redactor struct {
	rules []compiledRule
	// dropAll drops every url: stored rules that no longer compile fail
	// closed rather than let text through that they were meant to hide.
	dropAll bool
}

type compiledRule struct {
	m        urlmatch.Matcher
	action   string
	category string
}

// compileRules validates rules, naming each bad field, and compiles them.
func compileRules(rules []RedactionRule) (redactor, error) {
	var v validate.Fields
	if len(rules) > maxRedactionRules {
		v.Add("rules", "must have at most "+strconv.Itoa(maxRedactionRules)+" rules", len(rules))
	}
	out := redactor{rules: make([]compiledRule, 0, len(rules))}
	for i, r := range rules {
		field := "rules[" + strconv.Itoa(i) + "]."
		m, err := urlmatch.Compile(r.Match, r.Pattern)
		switch {
		case err == nil:
		case errors.Is(err, urlmatch.ErrKind):
			v.Add(field+"match", err.Error(), validate.Echo(string(r.Match)))
		default:
			v.Add(field+"pattern", strings.ReplaceAll(err.Error(), "\n", ": "), validate.Echo(r.Pattern))
		}
		v.OneOf(field+"action", r.Action, redactionActions...)
		switch {
		case r.Action == actionCategory:
			v.Length(field+"category", r.Category, 1, maxCategoryLen, true)
		case r.Category != "":
			v.Add(field+"category", "is only allowed with action category", validate.Echo(r.Category))
		}
		out.rules = append(out.rules, compiledRule{m: m, action: r.Action, category: r.Category})
	}
	if err := v.Err(); err != nil {
		return redactor{}, err
	}
	return out, nil
}

// redact is text as the first matching rule leaves it, nil when nothing
// of it may be kept; text without a matching rule is kept as sent.
func (r redactor) redact(text *string) *string {
	if text == nil || r.dropAll {
		return nil
	}
	if len(r.rules) == 0 {
		return text
	}
	t := urlmatch.Parse(*text)
	for _, rule := range r.rules {
		if !rule.m.Match(t) {
			continue
		}
		switch rule.action {
		case actionDropQuery:
			kept, _, _ := strings.Cut(*text, "?")
			kept, _, _ = strings.Cut(kept, "#")
			return &kept
		case actionHostOnly:
			u, err := url.Parse(*text)
			if !t.IsURL || err != nil || u.Hostname() == "" {
				return nil
			}
			kept := strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Hostname())
			return &kept
		case actionCategory:
			kept := categoryPrefix + rule.category
			return &kept
		default:
			return nil
		}
	}
	return text
}

// errRedactionUnknown answers posts while the rules have never been read
// (PostgreSQL unreachable since the start): storing a url unredacted is
// worse than the agent's retry.
var errRedactionUnknown = apierr.ErrUnavailable.WithMessage("the organization's redaction rules are not loaded yet; nothing was stored, retry later")

// Redactions holds every organization's redaction rules in memory, so
// that redacting an activity reads no row. Poll brings them up to date by
// reading only the organizations changed since the last poll (see
// migrations' tracking.url_redaction); a change applies at once on the
// replica that made it and within a poll on the others.
type Redactions struct {
	db  *pgxpool.Pool
	log *slog.Logger

	mu     sync.RWMutex
	loaded bool
	seq    int64
	byOrg  map[string]redactor
}

// NewRedactions returns rules read from db, none until the first Poll.
func NewRedactions(db *pgxpool.Pool, log *slog.Logger) *Redactions {
	return &Redactions{db: db, log: log, byOrg: map[string]redactor{}}
}

// Poll reads every organization's rules changed since the last poll.
func (r *Redactions) Poll(ctx context.Context) error {
	r.mu.RLock()
	seq := r.seq
	r.mu.RUnlock()
	_, err := feed.ReadAfter(ctx, seq, func(ctx context.Context, seq int64, limit int) ([]redactionRow, error) {
		return redactionsAfter(ctx, r.db, seq, limit)
	}, r.apply, func(row redactionRow) int64 { return row.seq })
	if err != nil {
		return fmt.Errorf("ingest: read redaction rules: %w", err)
	}
	r.mu.Lock()
	r.loaded = true
	r.mu.Unlock()
	return nil
}

func (r *Redactions) apply(rows []redactionRow) {
	compiled := make([]redactor, len(rows))
	for i, row := range rows {
		var rules []RedactionRule
		err := json.Unmarshal(row.rules, &rules)
		if err == nil {
			compiled[i], err = compileRules(rules)
		}
		if err != nil {
			r.log.Error("stored redaction rules do not compile; dropping every url of the organization", "organization_id", row.org, "err", err)
			compiled[i] = redactor{dropAll: true}
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, row := range rows {
		r.byOrg[row.org] = compiled[i]
		r.seq = row.seq
	}
}

// Run polls every interval until ctx is done.
func (r *Redactions) Run(ctx context.Context, interval time.Duration) error {
	feed.PollEvery(ctx, interval, r.Poll, "redaction rules not refreshed; activity is redacted by the rules last read")
	return nil
}

// of is org's redactor.
func (r *Redactions) of(org string) (redactor, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if !r.loaded {
		return redactor{}, errRedactionUnknown
	}
	return r.byOrg[org], nil
}
