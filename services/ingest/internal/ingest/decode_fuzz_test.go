package ingest

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/workpulse/workpulse/services/platform/apierr"
	"github.com/workpulse/workpulse/services/platform/httpx"
	"github.com/workpulse/workpulse/test/testkit"
)

// FuzzDecodeBulk checks that the bulk decoder accepts any body without
// panicking, answers only with client errors, and accounts for every item:
// each is stored, rejected with a contract code, or a duplicate, and what
// it passes on satisfies every rule the database also enforces.
func FuzzDecodeBulk(f *testing.F) {
	for _, seed := range []string{
		`{"activities":[{"client_activity_id":"a","timestamp":"2026-01-02T03:04:05Z","activity_type":"active","duration_seconds":5}]}`,
		`[{"client_activity_id":"a","timestamp":"2026-01-02T03:04:05.123456789+02:00","activity_type":"idle","duration_seconds":3600,"url":"https://x"}]`,
		`[{"client_activity_id":"a","timestamp":"2026-01-02T03:04:05Z","activity_type":"active","duration_seconds":5},{"client_activity_id":"a","timestamp":"2026-01-02T03:04:05Z","activity_type":"active","duration_seconds":5}]`,
		`[null, 1, "x", [], {}, {"client_activity_id":7}, {"duration_seconds":1e9}, {"activity_type":"typing"}]`,
		`{"activities":null}`, `{"activities":[]}`, `{"activities":[{}],"extra":1}`, `[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`,
		`[{"client_activity_id":"\u00e9\ud83d\ude00","timestamp":"2099-01-01T00:00:00Z","activity_type":"active","duration_seconds":1}]`,
		`[{"client_activity_id":"nul\u0000","timestamp":"2026-01-02T03:04:05Z","activity_type":"active","duration_seconds":5}]`,
		``, `   `, `{`, `[`, `nul`, `"activities"`, `[1,2,3] [4]`,
	} {
		f.Add([]byte(seed))
	}
	now := time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)
	const max, leeway = 50, 5 * time.Minute
	// A window of a year keeps the seeds' timestamps inside it.
	b := timeBounds{now: now, leeway: leeway, window: 366 * 24 * time.Hour}
	codes := map[string]bool{"VALIDATION_FAILED": true, "ACTIVITY_INVALID_TYPE": true, "ACTIVITY_INVALID_TIMESTAMP": true, "ACTIVITY_TOO_OLD": true}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := decodeBulk(body, max, b)
		slow, slowErr := decodeBulkWith(body, max, b, false)
		if (err == nil) != (slowErr == nil) || !reflect.DeepEqual(got, slow) {
			t.Fatalf("one-pass and item-by-item decoding differ:\n%+v %v\n%+v %v", got, err, slow, slowErr)
		}
		if err != nil {
			var ae *apierr.Error
			if !errors.As(err, &ae) || ae.Status != 400 {
				t.Fatalf("error %v is not a client error", err)
			}
			return
		}
		raws, err := splitBulk(body)
		if err != nil {
			t.Fatalf("decoded a body that does not split: %v", err)
		}
		if n := len(got.Items) + len(got.Rejected) + got.Duplicates; n != len(raws) || n == 0 || n > max {
			t.Fatalf("%d items stored, rejected or duplicate out of %d", n, len(raws))
		}
		seenIdx := map[int]bool{}
		seenCID := map[string]bool{}
		for _, r := range got.Rejected {
			if !codes[r.Code] || r.Message == "" || r.Index < 0 || r.Index >= len(raws) || seenIdx[r.Index] {
				t.Fatalf("bad rejection %+v", r)
			}
			seenIdx[r.Index] = true
		}
		for _, it := range got.Items {
			cid := it.ClientActivityID
			switch {
			case seenIdx[it.Index] || it.Index < 0 || it.Index >= len(raws):
				t.Fatalf("item index %d reused or out of range", it.Index)
			case cid == nil || utf8.RuneCountInString(*cid) < 1 || utf8.RuneCountInString(*cid) > maxCIDLen || seenCID[*cid] || strings.ContainsRune(*cid, 0):
				t.Fatalf("item %d has client_activity_id %v", it.Index, cid)
			case it.Type != typeActive && it.Type != typeIdle:
				t.Fatalf("item %d has type %q", it.Index, it.Type)
			case it.Duration < 1 || it.Duration > maxDuration:
				t.Fatalf("item %d has duration %d", it.Index, it.Duration)
			case it.URL != nil && (utf8.RuneCountInString(*it.URL) > maxURLLen || strings.ContainsRune(*it.URL, 0)):
				t.Fatalf("item %d has a %d-character url", it.Index, len(*it.URL))
			case it.Timestamp.After(now.Add(leeway)) || it.Timestamp.Location() != time.UTC || it.Timestamp.Nanosecond()%1000 != 0:
				t.Fatalf("item %d has timestamp %v", it.Index, it.Timestamp)
			}
			seenIdx[it.Index] = true
			seenCID[*cid] = true
		}
	})
}

// FuzzDecodeActivity checks the single-activity decoder the same way: any
// body is either a valid activity within the schema's rules or a client
// error with a contract code.
func FuzzDecodeActivity(f *testing.F) {
	for _, seed := range []string{
		`{"activity_type":"active","duration_seconds":30}`,
		`{"activity_type":"idle","duration_seconds":3600,"timestamp":"2026-01-02T03:04:05Z","client_activity_id":"c","url":"https://x"}`,
		`{"activity_type":"active","duration_seconds":-1}`, `{"activity_type":"x"}`, `{"timestamp":"yesterday"}`, `{}`, `[]`, `{`,
	} {
		f.Add([]byte(seed))
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte) {
		var in activityInput
		if err := httpx.DecodeBytes(body, &in); err != nil {
			if !testkit.IsClientError(err) {
				t.Fatalf("decoding answered a non-client error: %v", err)
			}
			return
		}
		a, aerr := in.check(timeBounds{now: now, leeway: 5 * time.Minute, window: 30 * 24 * time.Hour}, false)
		if aerr != nil {
			if aerr.Status >= 500 || aerr.Code == "" {
				t.Fatalf("check answered %+v", aerr)
			}
			return
		}
		if a.Duration < 1 || a.Duration > maxDuration || (a.Type != typeActive && a.Type != typeIdle) ||
			a.Timestamp.After(now.Add(5*time.Minute)) || a.Timestamp.Before(now.Add(-30*24*time.Hour)) || (a.URL != nil && len(*a.URL) > maxURLLen) {
			t.Fatalf("check passed an activity the schema refuses: %+v", a)
		}
	})
}
