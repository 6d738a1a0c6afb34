package ingest

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/workpulse/workpulse/services/platform/apierr"
	"github.com/workpulse/workpulse/services/platform/httpx"
	"github.com/workpulse/workpulse/services/platform/validate"
	"github.com/workpulse/workpulse/services/tracking"
)

// Activity types.
const (
	typeActive = "active"
	typeIdle   = "idle"
)

// Limits of an activity, as the schema enforces them too.
const (
	maxDuration = 3600
	maxCIDLen   = 128
	maxURLLen   = 2048
)

// activityInput is one activity as a client sends it. The timestamp is a
// string so that a malformed one is an ACTIVITY_INVALID_TIMESTAMP of its
// own item rather than a decoding failure of the whole body.
type activityInput struct {
	ClientActivityID *string `json:"client_activity_id"`
	Timestamp        *string `json:"timestamp"`
	ActivityType     string  `json:"activity_type"`
	DurationSeconds  *int    `json:"duration_seconds"`
	URL              *string `json:"url"`
}

// activity is a validated activity.
type activity struct {
	ClientActivityID *string
	Timestamp        time.Time
	Type             string
	Duration         int
	URL              *string
}

// timeBounds are what an activity's timestamp is checked against: the
// server's clock, how far ahead of it agents' clocks may drift, the
// organization's accepted window behind it and its timesheet lock.
type timeBounds struct {
	now            time.Time
	leeway, window time.Duration
	lock           tracking.TimesheetLock
}

// check validates in within b; bulk items must carry a client_activity_id
// and a timestamp. Field errors come first as one VALIDATION_FAILED, then
// an invalid type, then an invalid timestamp, then one too old, then one
// in a locked day.
func (in activityInput) check(b timeBounds, bulk bool) (activity, *apierr.Error) {
	now := b.now
	var v validate.Fields
	switch {
	case in.ClientActivityID != nil:
		v.Length("client_activity_id", *in.ClientActivityID, 1, maxCIDLen, true)
	case bulk:
		v.Add("client_activity_id", "is required", nil)
	}
	switch {
	case in.DurationSeconds == nil:
		v.Add("duration_seconds", "is required", nil)
	default:
		v.IntRange("duration_seconds", *in.DurationSeconds, 1, maxDuration)
	}
	if in.URL != nil {
		v.Length("url", *in.URL, 0, maxURLLen, false)
	}
	// PostgreSQL text cannot hold NUL; refuse it here rather than fail the
	// whole request in the database.
	for _, f := range []struct {
		name string
		s    *string
	}{{"client_activity_id", in.ClientActivityID}, {"url", in.URL}} {
		if f.s != nil && strings.ContainsRune(*f.s, 0) {
			v.Add(f.name, "must not contain NUL characters", nil)
		}
	}
	if err := v.Err(); err != nil {
		return activity{}, err.(*apierr.Error)
	}
	if in.ActivityType != typeActive && in.ActivityType != typeIdle {
		return activity{}, ErrInvalidType.WithMessage("activity_type must be active or idle, not " + strconv.Quote(validate.Echo(in.ActivityType)))
	}
	a := activity{ClientActivityID: in.ClientActivityID, Type: in.ActivityType, Duration: *in.DurationSeconds, URL: in.URL, Timestamp: now}
	switch {
	case in.Timestamp != nil:
		t, err := time.Parse(time.RFC3339Nano, *in.Timestamp)
		if err != nil {
			return activity{}, ErrInvalidTimestamp.WithMessage("timestamp must be an RFC 3339 time")
		}
		a.Timestamp = t
	case bulk:
		return activity{}, ErrInvalidTimestamp.WithMessage("timestamp is required")
	}
	// PostgreSQL keeps microseconds; answer with what is stored.
	a.Timestamp = a.Timestamp.UTC().Truncate(time.Microsecond)
	if a.Timestamp.After(now.Add(b.leeway)) {
		return activity{}, ErrInvalidTimestamp.WithMessage("timestamp is more than " + b.leeway.String() + " in the future")
	}
	if a.Timestamp.Before(now.Add(-b.window)) {
		return activity{}, ErrActivityTooOld.WithMessage("timestamp is too old: the organization accepts activity of the last " +
			tracking.WindowDays(b.window) + " only, and this one will never be stored")
	}
	if err := b.lock.Refuse(a.Timestamp); err != nil {
		return activity{}, lockedActivity(err)
	}
	return a, nil
}

// lockedActivity is the refusal of an activity timed in a locked day: an
// agent drops it, as one too old.
func lockedActivity(err error) *apierr.Error {
	return apierr.ErrDayLocked.WithMessage("timestamp falls in a locked day: " + err.Error() + ", and this activity will never be stored")
}

// Rejection reports a bulk item that was not stored.
type Rejection struct {
	Index            int     `json:"index"`
	ClientActivityID *string `json:"client_activity_id"`
	Code             string  `json:"code"`
	Message          string  `json:"message"`
}

// bulkItem is a valid item of a batch with its position.
type bulkItem struct {
	Index int
	activity
}

// decodedBulk is a decoded batch: the valid items, the rejected ones, and
// how many repeated a client_activity_id of an earlier item.
type decodedBulk struct {
	Items      []bulkItem
	Rejected   []Rejection
	Duplicates int
}

// decodeBulk decodes a batch: {"activities": [...]} or a bare array of at
// most max items. Only a body that is not such a batch fails as a whole;
// each bad item is rejected on its own, so that an offline client can
// drain its queue past one bad entry.
func decodeBulk(body []byte, max int, b timeBounds) (decodedBulk, error) {
	return decodeBulkWith(body, max, b, true)
}

// decodeBulkWith decodes a batch. With fast set it first decodes the whole
// batch in one pass, which well-formed batches (nearly all) pass, and
// decodes item by item only when that fails: item-by-item decoding was
// most of ingest's CPU per bulk activity. Both ways give the same result
// (FuzzDecodeBulk checks it).
func decodeBulkWith(body []byte, max int, b timeBounds, fast bool) (decodedBulk, error) {
	var inputs []*activityInput
	var raws []json.RawMessage
	if fast {
		inputs, fast = decodeWhole(body)
	}
	n := len(inputs)
	if !fast {
		var err error
		if raws, err = splitBulk(body); err != nil {
			return decodedBulk{}, err
		}
		n = len(raws)
	}
	switch {
	case n == 0:
		return decodedBulk{}, apierr.InvalidField("activities", "must contain at least one activity", nil)
	case n > max:
		return decodedBulk{}, apierr.InvalidField("activities", "must contain at most "+strconv.Itoa(max)+" activities", n)
	}
	out := decodedBulk{Items: make([]bulkItem, 0, n), Rejected: []Rejection{}}
	seen := make(map[string]struct{}, n)
	for i := range n {
		var in *activityInput
		if fast {
			in = inputs[i]
		} else {
			in = new(activityInput)
			if err := httpx.DecodeBytes(raws[i], in); err != nil {
				out.Rejected = append(out.Rejected, Rejection{Index: i, ClientActivityID: lenientCID(raws[i]), Code: apierr.ErrValidation.Code,
					Message: itemDecodeMessage(err)})
				continue
			}
			if bytes.Equal(bytes.TrimSpace(raws[i]), []byte("null")) {
				in = nil
			}
		}
		if in == nil {
			out.Rejected = append(out.Rejected, Rejection{Index: i, Code: apierr.ErrValidation.Code, Message: itemDecodeMessage(nil)})
			continue
		}
		a, aerr := in.check(b, true)
		if aerr != nil {
			out.Rejected = append(out.Rejected, Rejection{Index: i, ClientActivityID: in.ClientActivityID, Code: aerr.Code, Message: errorMessage(aerr)})
			continue
		}
		if _, dup := seen[*a.ClientActivityID]; dup {
			out.Duplicates++
			continue
		}
		seen[*a.ClientActivityID] = struct{}{}
		out.Items = append(out.Items, bulkItem{Index: i, activity: a})
	}
	return out, nil
}

// decodeWhole decodes every item of either form of a batch strictly in
// one pass; a JSON null item is a nil entry. ok is false when any part of
// the body does not decode.
func decodeWhole(body []byte) (inputs []*activityInput, ok bool) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) > 0 && trimmed[0] == '[' {
		return inputs, httpx.DecodeBytes(trimmed, &inputs) == nil
	}
	var wrapped struct {
		Activities *[]*activityInput `json:"activities"`
	}
	if httpx.DecodeBytes(trimmed, &wrapped) != nil || wrapped.Activities == nil {
		return nil, false
	}
	return *wrapped.Activities, true
}

// splitBulk returns the raw items of either form of a batch.
func splitBulk(body []byte) ([]json.RawMessage, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) > 0 && trimmed[0] == '[' {
		var raws []json.RawMessage
		return raws, httpx.DecodeBytes(trimmed, &raws)
	}
	var wrapped struct {
		Activities *[]json.RawMessage `json:"activities"`
	}
	if err := httpx.DecodeBytes(trimmed, &wrapped); err != nil {
		return nil, err
	}
	if wrapped.Activities == nil {
		return nil, apierr.InvalidField("activities", "is required: send {\"activities\": [...]} or a JSON array", nil)
	}
	return *wrapped.Activities, nil
}

// lenientCID finds the client_activity_id of an item that failed to
// decode, so that the client can tell which of its entries it was.
func lenientCID(raw json.RawMessage) *string {
	var probe struct {
		CID any `json:"client_activity_id"`
	}
	if json.Unmarshal(raw, &probe) != nil {
		return nil
	}
	if s, ok := probe.CID.(string); ok && utf8.RuneCountInString(s) <= maxCIDLen {
		return &s
	}
	return nil
}

func itemDecodeMessage(err error) string {
	if ae, ok := err.(*apierr.Error); ok {
		return errorMessage(ae)
	}
	return "activity must be a JSON object"
}

// errorMessage flattens a validation error's field details into one line.
func errorMessage(e *apierr.Error) string {
	fields, ok := e.Details.([]apierr.FieldError)
	if !ok || len(fields) == 0 {
		return e.Message
	}
	parts := make([]string, 0, len(fields))
	for _, f := range fields {
		parts = append(parts, f.Field+" "+strings.Join(f.Constraints, ", "))
	}
	return strings.Join(parts, "; ")
}
