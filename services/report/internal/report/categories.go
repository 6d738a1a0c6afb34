package report

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/services/platform/httpx"
	"github.com/workpulse/workpulse/services/platform/pg"
	"github.com/workpulse/workpulse/services/platform/urlmatch"
	"github.com/workpulse/workpulse/services/platform/validate"
)

// The productivity categories. Activity no rule matches is neutral.
const (
	CategoryProductive   = "productive"
	CategoryNeutral      = "neutral"
	CategoryUnproductive = "unproductive"
)

// JobCategoryRecompute recomputes the category seconds of stored
// summaries after the rules changed.
const JobCategoryRecompute = "category-recompute"

// MaxCategoryRules bounds an organization's rules: every one is tried
// against every distinct URL of a day being summarized.
const MaxCategoryRules = 500

// categoryBatchDays is how many days of summaries one transaction of a
// recomputation updates, so that a change to the rules of a large
// organization never holds a transaction (and the summaries' lock) for
// its whole history.
const categoryBatchDays = 7

// CategoryRule maps what its pattern matches to a category: the
// organization's when TeamID is nil, else a team's, tried first for the
// team's members.
type CategoryRule struct {
	TeamID   *string `json:"team_id"`
	Match    string  `json:"match"`
	Pattern  string  `json:"pattern"`
	Category string  `json:"category"`
}

// categoryRulesInput is the body of PUT /api/categories/rules.
type categoryRulesInput struct {
	Rules []CategoryRule `json:"rules"`
}

// Validate checks every rule, naming each problem by its index.
func (in *categoryRulesInput) Validate() error {
	var v validate.Fields
	if in.Rules == nil {
		v.Add("rules", "is required (an empty list removes every rule)", nil)
	}
	if len(in.Rules) > MaxCategoryRules {
		v.Add("rules", "must hold at most "+strconv.Itoa(MaxCategoryRules)+" rules", len(in.Rules))
	}
	for i, r := range in.Rules {
		field := "rules[" + strconv.Itoa(i) + "]."
		if r.TeamID != nil {
			v.UUID(field+"team_id", *r.TeamID)
		}
		v.OneOf(field+"category", r.Category, CategoryProductive, CategoryNeutral, CategoryUnproductive)
		if !slices.Contains(urlmatch.Kinds, r.Match) {
			v.Add(field+"match", urlmatch.ErrKind.Error(), validate.Echo(r.Match))
			continue
		}
		if _, err := urlmatch.Compile(urlmatch.Kind(r.Match), r.Pattern); err != nil {
			v.Add(field+"pattern", err.Error(), validate.Echo(r.Pattern))
		}
	}
	return v.Err()
}

// ruleSet is an organization's rules compiled: its own and each team's,
// each in position order.
type ruleSet struct {
	org   []compiledRule
	teams map[string][]compiledRule
}

type compiledRule struct {
	m        urlmatch.Matcher
	category string
}

// compileRules compiles stored rules; they were validated when stored,
// and one that no longer compiles (a stricter matcher) is skipped rather
// than failing every summary of the organization.
func compileRules(rules []CategoryRule) ruleSet {
	rs := ruleSet{teams: map[string][]compiledRule{}}
	for _, r := range rules {
		m, err := urlmatch.Compile(urlmatch.Kind(r.Match), r.Pattern)
		if err != nil {
			continue
		}
		c := compiledRule{m: m, category: r.Category}
		if r.TeamID == nil {
			rs.org = append(rs.org, c)
		} else {
			rs.teams[*r.TeamID] = append(rs.teams[*r.TeamID], c)
		}
	}
	return rs
}

func (rs ruleSet) empty() bool { return len(rs.org) == 0 && len(rs.teams) == 0 }

// category is the category of text for a member of teams: the first
// matching rule of their teams (teams in the order given), else the
// first matching rule of the organization, else neutral.
func (rs ruleSet) category(teams []string, text string) string {
	t := urlmatch.Parse(text)
	for _, team := range teams {
		for _, r := range rs.teams[team] {
			if r.m.Match(t) {
				return r.category
			}
		}
	}
	for _, r := range rs.org {
		if r.m.Match(t) {
			return r.category
		}
	}
	return CategoryNeutral
}

// categoryMap is the category of each (user, URL) pair of a day that is
// not neutral, as the summary queries take it ($6, $7, $8).
type categoryMap struct{ users, urls, categories []string }

// dayCategories categorizes the activity of the tenant of tx in [lo, hi)
// of users (nil: everyone) by its current rules. An organization without
// rules costs no read of the activity: everything is neutral.
func dayCategories(ctx context.Context, tx pgx.Tx, org string, users []string, lo, hi time.Time) (categoryMap, error) {
	var c categoryMap
	rules, err := selectCategoryRules(ctx, tx)
	if err != nil {
		return c, err
	}
	rs := compileRules(rules)
	if rs.empty() {
		return c, nil
	}
	teams := map[string][]string{}
	if len(rs.teams) > 0 {
		if teams, err = teamMemberships(ctx, tx); err != nil {
			return c, err
		}
	}
	rows, err := dayURLs(ctx, tx, org, users, lo, hi)
	if err != nil {
		return c, err
	}
	defer rows.Close()
	for rows.Next() {
		var user, url string
		if err := rows.Scan(&user, &url); err != nil {
			return c, err
		}
		if cat := rs.category(teams[user], url); cat != CategoryNeutral {
			c.users, c.urls, c.categories = append(c.users, user), append(c.urls, url), append(c.categories, cat)
		}
	}
	return c, rows.Err()
}

// categoryRulesView is what the rules API answers: the rules and, after
// a change, the job recomputing the summaries.
type categoryRulesView struct {
	Rules []CategoryRule `json:"rules"`
	JobID string         `json:"job_id,omitempty"`
}

// getCategoryRules lists the caller's organization's rules.
func (s *server) getCategoryRules(w http.ResponseWriter, r *http.Request) error {
	p := authn.MustFromContext(r.Context())
	var rules []CategoryRule
	err := pg.InOrg(r.Context(), s.db, p.OrganizationID, func(tx pgx.Tx) error {
		var err error
		rules, err = selectCategoryRules(r.Context(), tx)
		return err
	})
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, categoryRulesView{Rules: orEmpty(rules)})
	return nil
}

// putCategoryRules replaces the caller's organization's rules and starts
// recomputing the stored summaries they affect: everyone's when the
// organization's rules changed, else the members of the teams whose
// rules changed.
func (s *server) putCategoryRules(w http.ResponseWriter, r *http.Request) error {
	p := authn.MustFromContext(r.Context())
	in, err := httpx.DecodeBody[categoryRulesInput](r)
	if err != nil {
		return err
	}
	org := p.OrganizationID
	var affected []string
	var changed bool
	err = pg.InOrg(r.Context(), s.db, org, func(tx pgx.Tx) error {
		if err := checkTeams(r.Context(), tx, in.Rules); err != nil {
			return err
		}
		old, err := selectCategoryRules(r.Context(), tx)
		if err != nil {
			return err
		}
		if err := replaceCategoryRules(r.Context(), tx, org, in.Rules, s.clock.Now()); err != nil {
			return err
		}
		// Read back in stored order, so that both sides compare alike.
		now, err := selectCategoryRules(r.Context(), tx)
		if err != nil {
			return err
		}
		orgChanged, teams := changedScopes(old, now)
		if changed = orgChanged || len(teams) > 0; !changed || orgChanged {
			return nil
		}
		members, err := teamMemberships(r.Context(), tx)
		affected = membersOf(members, teams)
		return err
	})
	if err != nil {
		return err
	}
	view := categoryRulesView{Rules: orEmpty(in.Rules)}
	if changed {
		params := map[string]any{"users": affected}
		view.JobID, _, err = s.runner.Start(r.Context(), org, p.UserID, JobCategoryRecompute, params,
			func(ctx context.Context, progress func(any)) (any, error) {
				return s.jobs.RecomputeCategories(ctx, org, affected, progress)
			})
		if err != nil {
			return err
		}
	}
	httpx.JSON(w, http.StatusOK, view)
	return nil
}

// checkTeams refuses a rule of a team the organization does not have.
func checkTeams(ctx context.Context, tx pgx.Tx, rules []CategoryRule) error {
	var v validate.Fields
	for i, r := range rules {
		if r.TeamID == nil {
			continue
		}
		ok, err := teamExists(ctx, tx, *r.TeamID)
		if err != nil {
			return err
		}
		if !ok {
			v.Add("rules["+strconv.Itoa(i)+"].team_id", "must be a team of the organization", *r.TeamID)
		}
	}
	return v.Err()
}

// changedScopes compares two rule lists in stored order: whether the
// organization's rules differ, and the teams whose rules differ.
func changedScopes(old, now []CategoryRule) (orgChanged bool, teams []string) {
	scopes := func(rules []CategoryRule) map[string][]CategoryRule {
		m := map[string][]CategoryRule{}
		for _, r := range rules {
			key := ""
			if r.TeamID != nil {
				key = *r.TeamID
			}
			r.TeamID = nil
			m[key] = append(m[key], r)
		}
		return m
	}
	a, b := scopes(old), scopes(now)
	for _, m := range []map[string][]CategoryRule{a, b} {
		for key := range m {
			if slices.Equal(a[key], b[key]) || slices.Contains(teams, key) {
				continue
			}
			if key == "" {
				orgChanged = true
			} else {
				teams = append(teams, key)
			}
		}
	}
	return orgChanged, teams
}

// membersOf lists the users who are in any of teams, never nil (nil
// would mean everyone).
func membersOf(memberships map[string][]string, teams []string) []string {
	users := []string{}
	for user, of := range memberships {
		for _, t := range of {
			if slices.Contains(teams, t) {
				users = append(users, user)
				break
			}
		}
	}
	slices.Sort(users)
	return users
}

func orEmpty(rules []CategoryRule) []CategoryRule {
	if rules == nil {
		return []CategoryRule{}
	}
	return rules
}

// CategoryRecompute is the progress and result of a recomputation.
type CategoryRecompute struct {
	DaysTotal int `json:"days_total"`
	DaysDone  int `json:"days_done"`
	// SummariesChanged counts the stored summaries whose categories
	// changed.
	SummariesChanged int64 `json:"summaries_changed"`
	// Passes counts the passes over the days: a change to the rules
	// while one runs makes another, over everyone, with the new rules.
	Passes int `json:"passes"`
}

// RecomputeCategories sets the category seconds of the stored summaries
// of users (nil: everyone) of org by the current rules, categoryBatchDays
// days a transaction, newest first, reporting progress after each batch.
func (j *Jobs) RecomputeCategories(ctx context.Context, org string, users []string, progress func(any)) (CategoryRecompute, error) {
	var res CategoryRecompute
	for {
		res.Passes++
		before, err := j.rulesFingerprint(ctx, org)
		if err != nil {
			return res, err
		}
		var days []time.Time
		err = pg.InOrg(ctx, j.db, org, func(tx pgx.Tx) error {
			days, err = summaryDays(ctx, tx, org, users)
			return err
		})
		if err != nil {
			return res, err
		}
		res.DaysTotal += len(days)
		progress(res)
		for batch := range slices.Chunk(days, categoryBatchDays) {
			n, err := j.recategorizeDays(ctx, org, users, batch)
			if err != nil {
				return res, err
			}
			res.DaysDone += len(batch)
			res.SummariesChanged += n
			progress(res)
		}
		after, err := j.rulesFingerprint(ctx, org)
		if err != nil || after == before {
			return res, err
		}
		users = nil
	}
}

// recategorizeDays recomputes the categories of days in one transaction
// holding the daily summary's lock, so that it and a summary run of the
// same days take turns.
func (j *Jobs) recategorizeDays(ctx context.Context, org string, users []string, days []time.Time) (int64, error) {
	var changed int64
	err := j.inDailySummary(ctx, org, func(tx pgx.Tx, st Settings, _, _ time.Time) error {
		changed = 0
		for _, d := range days {
			lo, hi, err := dayBounds(ctx, tx, st.TimeZone, d)
			if err != nil {
				return err
			}
			c, err := dayCategories(ctx, tx, org, users, lo, hi)
			if err != nil {
				return err
			}
			n, err := recategorize(ctx, tx, org, d, lo, hi, users, c)
			if err != nil {
				return err
			}
			changed += n
		}
		if changed == 0 {
			return nil
		}
		return bumpReportVersion(ctx, tx, org)
	})
	return changed, err
}

// rulesFingerprint is the organization's rules as text, to tell whether
// they changed while a recomputation ran.
func (j *Jobs) rulesFingerprint(ctx context.Context, org string) (string, error) {
	var rules []CategoryRule
	err := pg.InOrg(ctx, j.db, org, func(tx pgx.Tx) error {
		var err error
		rules, err = selectCategoryRules(ctx, tx)
		return err
	})
	b, _ := json.Marshal(rules)
	return string(b), err
}
