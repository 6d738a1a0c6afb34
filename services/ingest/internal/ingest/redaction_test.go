package ingest

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/workpulse/workpulse/api/events"
	"github.com/workpulse/workpulse/services/platform/apierr"
	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/services/platform/kafkax"
	"github.com/workpulse/workpulse/services/platform/outbox"
	"github.com/workpulse/workpulse/services/platform/urlmatch"
	"github.com/workpulse/workpulse/services/tracking"
	"github.com/workpulse/workpulse/test/testkit"
)

func TestTheFirstMatchingRedactionRuleDecidesWhatOfAURLIsKept(t *testing.T) {
	t.Parallel()
	rules := []RedactionRule{
		{Match: urlmatch.Host, Pattern: "bank.test", Action: actionDrop},
		{Match: urlmatch.PathPrefix, Pattern: "mail.test/inbox", Action: actionHostOnly},
		{Match: urlmatch.Regex, Pattern: `^https?://[^/]*social\.test/`, Action: actionCategory, Category: "Social media"},
		{Match: urlmatch.App, Pattern: "Signal", Action: actionCategory, Category: "Messaging"},
		{Match: urlmatch.App, Pattern: "Diary", Action: actionHostOnly},
		{Match: urlmatch.Regex, Pattern: `^https?://`, Action: actionDropQuery},
	}
	red, err := compileRules(rules)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		url  *string
		want *string
	}{
		{"an activity without a url stays without one", nil, nil},
		{"a url on a dropped host is not kept at all", ptr("https://online.bank.test/account/42?iban=DE00"), nil},
		{"a url under a host-only path keeps its scheme and host only", ptr("https://Mail.test/inbox/msg/77?q=salary"), ptr("https://mail.test")},
		{"a url the host-only path does not cover falls to a later rule", ptr("https://mail.test/settings?tab=2"), ptr("https://mail.test/settings")},
		{"a url a categorizing rule matches becomes the category", ptr("https://www.social.test/friend/9"), ptr("category:Social media")},
		{"an application a categorizing rule matches becomes the category", ptr("Signal"), ptr("category:Messaging")},
		{"an application under a host-only rule, having no host, is dropped", ptr("diary"), nil},
		{"the query string and fragment of any other url are dropped", ptr("https://docs.test/a/b?token=s3cr3t#p2"), ptr("https://docs.test/a/b")},
		{"an application no rule matches is kept as sent", ptr("Terminal"), ptr("Terminal")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := red.redact(tc.url)
			if (got == nil) != (tc.want == nil) || got != nil && *got != *tc.want {
				t.Errorf("redact(%v) = %v, want %v", deref(tc.url), deref(got), deref(tc.want))
			}
		})
	}
	if got := (redactor{}).redact(ptr("https://x.test/?q=1")); got == nil || *got != "https://x.test/?q=1" {
		t.Errorf("an organization without rules got %v, want the url as sent", deref(got))
	}
	if got := (redactor{dropAll: true}).redact(ptr("Terminal")); got != nil {
		t.Errorf("rules that failed to compile kept %q", *got)
	}
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

func TestBadRedactionRulesAreRefusedFieldByField(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		rule  RedactionRule
		field string
	}{
		{"an unknown kind of match", RedactionRule{Match: "glob", Pattern: "*.test", Action: actionDrop}, "rules[0].match"},
		{"a regular expression RE2 cannot compile", RedactionRule{Match: urlmatch.Regex, Pattern: `(a`, Action: actionDrop}, "rules[0].pattern"},
		{"a pattern past the length bound", RedactionRule{Match: urlmatch.Regex, Pattern: string(bytes.Repeat([]byte("a"), urlmatch.MaxPatternLength+1)), Action: actionDrop}, "rules[0].pattern"},
		{"an unknown action", RedactionRule{Match: urlmatch.Host, Pattern: "x.test", Action: "blur"}, "rules[0].action"},
		{"a category action without a category", RedactionRule{Match: urlmatch.Host, Pattern: "x.test", Action: actionCategory}, "rules[0].category"},
		{"a category on another action", RedactionRule{Match: urlmatch.Host, Pattern: "x.test", Action: actionDrop, Category: "x"}, "rules[0].category"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := compileRules([]RedactionRule{tc.rule})
			if err == nil {
				t.Fatal("accepted")
			}
			fields := fieldsOf(t, err)
			if len(fields) != 1 || fields[0] != tc.field {
				t.Errorf("fields %v, want [%s]", fields, tc.field)
			}
		})
	}
}

// fieldsOf is the fields a VALIDATION_FAILED error names.
func fieldsOf(t *testing.T, err error) []string {
	t.Helper()
	var ae *apierr.Error
	if !errors.As(err, &ae) || ae.Code != apierr.ErrValidation.Code {
		t.Fatalf("error %v is no %s", err, apierr.ErrValidation.Code)
	}
	var fields []string
	for _, f := range ae.Details.([]apierr.FieldError) {
		fields = append(fields, f.Field)
	}
	return fields
}

func TestActivityIsRefusedWhileTheRedactionRulesWereNeverRead(t *testing.T) {
	t.Parallel()
	if _, err := NewRedactions(nil, quietLogger()).of("any"); !errors.Is(err, apierr.ErrUnavailable) {
		t.Errorf("rules never read: %v, want %s", err, apierr.ErrUnavailable.Code)
	}
}

// putRules replaces the organization's redaction rules as token's holder.
func (h *harness) putRules(token string, rules []RedactionRule) (int, []byte) {
	return testkit.Do(h.t, h.client, http.MethodPut, h.srv.URL+"/api/organization/redaction-rules", token, map[string]any{"rules": rules}, nil)
}

func TestRedactedTextIsFoundNowhereAfterSinglePostsAndBulkUploads(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	brokers := testkit.Kafka(t)
	m := h.member("")
	admin := h.iss.Token(t, testkit.Member(m.OrganizationID, authn.RoleAdmin))
	if status, raw := h.putRules(admin, []RedactionRule{
		{Match: urlmatch.Host, Pattern: "bank.test", Action: actionDrop},
		{Match: urlmatch.PathPrefix, Pattern: "mail.test/inbox", Action: actionHostOnly},
		{Match: urlmatch.App, Pattern: "Diary", Action: actionCategory, Category: "Personal"},
		{Match: urlmatch.Regex, Pattern: `^https?://`, Action: actionDropQuery},
	}); status != http.StatusOK {
		t.Fatalf("status %d: %s", status, raw)
	}
	// Each secret is in one url, and in no rule.
	secrets := []string{"online.bank.test", "acct-4711", "msg-0815", "tok-s3cr3t", "Diary"}
	urls := []string{"https://online.bank.test/acct-4711", "https://mail.test/inbox/msg-0815", "https://docs.test/a?t=tok-s3cr3t#x", "Diary", "Terminal"}
	kept := []*string{nil, ptr("https://mail.test"), ptr("https://docs.test/a"), ptr("category:Personal"), ptr("Terminal")}

	start := h.clock.Now().Add(-time.Hour)
	sid := h.startSession(m, start)
	var active, idle, stored int64
	for i, u := range urls {
		var got activityResponse
		status, raw := h.post(m.Token, "/api/sessions/"+sid+"/activity", singleBody{ActivityType: "active", DurationSeconds: 10 + i, URL: ptr(u)}, &got)
		if status != http.StatusCreated {
			t.Fatalf("status %d: %s", status, raw)
		}
		if deref(got.Activity.URL) != deref(kept[i]) {
			t.Errorf("%q was answered as stored as %s, want %s", u, deref(got.Activity.URL), deref(kept[i]))
		}
		active, stored = active+int64(10+i), stored+1
	}
	items, a, d := batch("r", 0, 200, start)
	for i := range items {
		items[i].URL = ptr(urls[i%len(urls)])
	}
	var res bulkResult
	if status, raw := h.post(m.Token, "/api/sessions/"+sid+"/activity/bulk", items, &res); status != http.StatusCreated || res.Uploaded != len(items) {
		t.Fatalf("status %d: %s", status, raw)
	}
	active, idle, stored = active+a, idle+d, stored+int64(len(items))
	h.assertExact(sid, stored, active, idle, int64(len(urls))+1)

	ctx := context.Background()
	// Every table of the tracking schema, partitions included, but the
	// rules themselves.
	tables, err := h.db.Owner.Query(ctx, "SELECT format('%I.%I', table_schema, table_name) FROM information_schema.tables"+
		" WHERE table_schema = 'tracking' AND table_type = 'BASE TABLE' AND table_name <> 'url_redaction'")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for tables.Next() {
		var n string
		if err := tables.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	if tables.Close(); len(names) < 5 {
		t.Fatalf("searched only %v", names)
	}
	search := func(where string, contains func(string) bool) {
		for _, s := range secrets {
			if contains(s) {
				t.Errorf("%q found in %s", s, where)
			}
		}
	}
	for _, table := range names {
		var rows []string
		r, err := h.db.Owner.Query(ctx, "SELECT t::text FROM "+table+" t")
		if err != nil {
			t.Fatal(err)
		}
		for r.Next() {
			var row string
			if err := r.Scan(&row); err != nil {
				t.Fatal(err)
			}
			rows = append(rows, row)
		}
		r.Close()
		search(table, func(s string) bool { return bytes.Contains([]byte(strings.Join(rows, "\n")), []byte(s)) })
	}
	var outboxRows int
	if err := h.db.Owner.QueryRow(ctx, "SELECT count(*) FROM tracking.outbox").Scan(&outboxRows); err != nil || outboxRows != len(urls)+1 {
		t.Fatalf("%d outbox rows (%v), want %d", outboxRows, err, len(urls)+1)
	}

	w := kafkax.NewWriter(brokers)
	defer w.Close()
	if _, err := outbox.NewRelay(h.pool, tracking.OutboxTable, w, nil, quietLogger()).Flush(ctx); err != nil {
		t.Fatal(err)
	}
	msgs := readTopic(t, brokers, events.TopicActivity, len(urls)+1, 10*time.Second)
	if len(msgs) != len(urls)+1 {
		t.Fatalf("%d activity events, want %d", len(msgs), len(urls)+1)
	}
	search("the activity topic", func(s string) bool { return bytes.Contains(bytes.Join(msgs, nil), []byte(s)) })

	var storedURLs []string
	r, err := h.db.Owner.Query(ctx, "SELECT DISTINCT coalesce(url, '<nil>') FROM tracking.activity_logs WHERE session_id = $1", sid)
	if err != nil {
		t.Fatal(err)
	}
	for r.Next() {
		var u string
		if err := r.Scan(&u); err != nil {
			t.Fatal(err)
		}
		storedURLs = append(storedURLs, u)
	}
	r.Close()
	slices.Sort(storedURLs)
	if want := []string{"<nil>", "Terminal", "category:Personal", "https://docs.test/a", "https://mail.test"}; !slices.Equal(storedURLs, want) {
		t.Errorf("stored urls %v, want %v", storedURLs, want)
	}
}

func TestOnlyAdminsChangeRedactionRulesEachChangeIsAuditedAndReachesTheOtherReplicas(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	m := h.member("")
	adminP := testkit.Member(m.OrganizationID, authn.RoleAdmin)
	admin := h.iss.Token(t, adminP)
	rules := []RedactionRule{{Match: urlmatch.Host, Pattern: "bank.test", Action: actionDrop}}
	other := NewRedactions(h.pool, quietLogger())
	if err := other.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}

	if status, raw := h.putRules(m.Token, rules); status != http.StatusForbidden {
		t.Errorf("an employee changed the rules: %d %s", status, raw)
	}
	if status, raw := h.putRules(admin, rules); status != http.StatusOK {
		t.Fatalf("status %d: %s", status, raw)
	}
	status, raw := h.putRules(admin, []RedactionRule{rules[0], {Match: urlmatch.Regex, Pattern: "(a", Action: actionDrop}})
	if e := errorCode(t, raw); status != http.StatusBadRequest || e.Error.Code != apierr.ErrValidation.Code || !bytes.Contains(e.Error.Details, []byte(`"rules[1].pattern"`)) {
		t.Errorf("bad rules: %d %s", status, raw)
	}
	var got RedactionRules
	if status, raw := testkit.Do(t, h.client, http.MethodGet, h.srv.URL+"/api/organization/redaction-rules", admin, nil, &got); status != http.StatusOK ||
		len(got.Rules) != 1 || got.Rules[0] != rules[0] || got.UpdatedBy == nil || *got.UpdatedBy != adminP.UserID {
		t.Errorf("after a refused change: %d %s, want the rules before it", status, raw)
	}

	if err := other.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	red, err := other.of(m.OrganizationID)
	if err != nil || red.redact(ptr("https://bank.test/x")) != nil {
		t.Errorf("another replica's next poll did not bring the rules (%v)", err)
	}
	if red, _ := other.of(testkit.Member("", authn.RoleAdmin).OrganizationID); red.redact(ptr("https://bank.test/x")) == nil {
		t.Error("another organization's activity was redacted by these rules")
	}

	var n int
	var details string
	if err := h.db.Owner.QueryRow(context.Background(), "SELECT count(*), max(details::text) FROM auth.audit_log WHERE organization_id = $1 AND actor_id = $2 AND action = $3",
		m.OrganizationID, adminP.UserID, auditRedactionChanged).Scan(&n, &details); err != nil || n != 1 {
		t.Fatalf("%d audit entries (%v), want 1", n, err)
	}
	if !strings.Contains(details, `"before": []`) || !strings.Contains(details, `"bank.test"`) {
		t.Errorf("audit details %s, want the rules before and after", details)
	}
}
