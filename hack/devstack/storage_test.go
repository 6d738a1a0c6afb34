package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/workpulse/workpulse/migrations/storage"
	"github.com/workpulse/workpulse/test/testkit"
)

func TestMakeDevMaintainsTheSharedTreeAtStartAndServesItsMonthsAhead(t *testing.T) {
	db := testkit.NewDB(t)
	var out bytes.Buffer
	s := &Stack{cfg: Config{Storage: storage.Policy{Premake: 4, Window: storage.Window(30), Retention: 13}, Schedules: Schedules{StorageMaintenance: time.Hour}}, out: &out}
	reg := prometheus.NewRegistry()
	ctx, cancel := context.WithCancel(context.Background())
	wait, err := s.storageMaintenance(ctx, db.URL, testkit.NewClock(time.Date(2035, 1, 1, 0, 0, 0, 0, time.UTC)), reg)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	wait()
	if !strings.Contains(out.String(), "created [2034-12 2035-01 2035-02 2035-03 2035-04 2035-05]") {
		t.Errorf("devstack logged %q: want December 2034 to May 2035 created", out.String())
	}
	rec := httptest.NewRecorder()
	withMetrics(http.NotFoundHandler(), reg).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if !strings.Contains(rec.Body.String(), `workpulse_activity_storage_months_ahead{tree="activity_logs_shared"} 4`) {
		t.Errorf("/metrics lacks the months ahead:\n%s", rec.Body.String())
	}
	rec = httptest.NewRecorder()
	withMetrics(http.NotFoundHandler(), reg).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/health", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("/api/health went to the metrics (%d), not the front door", rec.Code)
	}
}
