package systemtest

import (
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Agent is a desktop agent of one member: it retries what the platform
// could not answer, with the same client ids, as a real agent does.
type Agent struct {
	c      *Client
	m      Member
	ledger *Ledger
}

func (c *Client) Agent(m Member, l *Ledger) *Agent { return &Agent{c: c, m: m, ledger: l} }

// retryable reports answers after which the outcome is unknown or
// transient, so the agent sends the same thing again.
func retryable(r Resp, err error) bool {
	return err != nil || r.Status >= 500 || r.Status == 429
}

// Single posts one heartbeat until it gets a definitive answer.
func (a *Agent) Single(session string, act Activity) (Resp, error) {
	var r Resp
	var err error
	for attempt := 0; attempt < 200; attempt++ {
		r, err = a.c.Do("POST", "/sessions/"+session+"/activity", a.m.Token, act)
		if !retryable(r, err) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	switch {
	case err != nil:
		return r, err
	case r.Status == 201:
		a.ledger.Accept(a.m.Org, a.m.ID, session, 1, act)
	case r.Status == 200: // a duplicate of an activity already stored
		a.ledger.Accept(a.m.Org, a.m.ID, session, 0, act)
	}
	return r, nil
}

// Bulk uploads a batch until it gets a definitive answer.
func (a *Agent) Bulk(session string, acts []Activity) (BulkResult, Resp, error) {
	var r Resp
	var err error
	for attempt := 0; attempt < 200; attempt++ {
		r, err = a.c.Do("POST", "/sessions/"+session+"/activity/bulk", a.m.Token, map[string]any{"activities": acts})
		if !retryable(r, err) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	var res BulkResult
	if err != nil || r.Status != 201 {
		return res, r, err
	}
	r.Into(a.c.t, &res)
	rejected := map[int]bool{}
	for _, rj := range res.Rejected {
		rejected[rj.Index] = true
	}
	var ok []Activity
	for i, act := range acts {
		if !rejected[i] {
			ok = append(ok, act)
		}
	}
	a.ledger.Accept(a.m.Org, a.m.ID, session, res.Uploaded, ok...)
	return res, r, nil
}

// Heartbeats makes n activities of typ, each dur seconds, back to back
// from start, skipping any that would straddle a UTC midnight (the daily
// summaries are checked per date).
func Heartbeats(start time.Time, n, dur int, typ string) []Activity {
	var out []Activity
	ts := start.UTC().Truncate(time.Second)
	for len(out) < n {
		end := ts.Add(time.Duration(dur) * time.Second)
		if end.Truncate(24*time.Hour) == ts.Truncate(24*time.Hour) || end.Equal(end.Truncate(24*time.Hour)) {
			out = append(out, Activity{ClientActivityID: uuid.NewString(), Timestamp: ts, ActivityType: typ,
				DurationSeconds: dur, URL: fmt.Sprintf("https://app%d.example.com/page", len(out)%3)})
		}
		ts = end
	}
	return out
}
