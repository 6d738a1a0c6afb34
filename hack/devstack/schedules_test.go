package main

import (
	"strings"
	"testing"
	"time"

	"github.com/workpulse/workpulse/services/platform/config"
)

func TestMakeDevRunsTheCronJobsCommandsOnTheirSchedules(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		every   map[string]time.Duration
		storage time.Duration
	}{
		{"By default the schedules are the operator's install-wide CronJobs' and its hourly storage pass.", nil,
			map[string]time.Duration{"idle-detection": 2 * time.Minute, "overtime-check": 30 * time.Minute, "daily-summary --due": 15 * time.Minute},
			time.Hour},
		{"Tests shorten them.", map[string]string{"DEV_IDLE_DETECTION_EVERY": "1s", "DEV_OVERTIME_CHECK_EVERY": "2s", "DEV_DAILY_SUMMARY_EVERY": "3s",
			"DEV_STORAGE_MAINTENANCE_EVERY": "4s"},
			map[string]time.Duration{"idle-detection": time.Second, "overtime-check": 2 * time.Second, "daily-summary --due": 3 * time.Second},
			4 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := config.FromMap(tt.env)
			schedules := loadSchedules(env)
			jobs := schedules.jobs()
			if err := env.Err(); err != nil {
				t.Fatal(err)
			}
			if schedules.StorageMaintenance != tt.storage {
				t.Errorf("storage maintenance every %s, want %s", schedules.StorageMaintenance, tt.storage)
			}
			got := map[string]time.Duration{}
			for _, j := range jobs {
				got[strings.Join(j.args, " ")] = j.every
			}
			if len(got) != len(tt.every) {
				t.Errorf("jobs %v, want %v", got, tt.every)
			}
			for name, every := range tt.every {
				if got[name] != every {
					t.Errorf("%s every %s, want %s", name, got[name], every)
				}
			}
		})
	}
	if err := func() error {
		e := config.FromMap(map[string]string{"DEV_DAILY_SUMMARY_EVERY": "0s"})
		loadSchedules(e)
		return e.Err()
	}(); err == nil {
		t.Error("a zero schedule was accepted")
	}
}

func TestScheduledRunsFallOnTheCronJobsMinutes(t *testing.T) {
	tests := []struct {
		name       string
		now        string
		every      time.Duration
		wantNextAt string
	}{
		{"A 15-minute job runs at the next quarter hour.", "2026-12-01T23:52:10Z", 15 * time.Minute, "2026-12-02T00:00:00Z"},
		{"A run falling exactly on its minute is the next one's start.", "2026-12-01T10:30:00Z", 30 * time.Minute, "2026-12-01T11:00:00Z"},
		{"A 2-minute job runs on even minutes.", "2026-12-31T23:59:01Z", 2 * time.Minute, "2027-01-01T00:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now, _ := time.Parse(time.RFC3339, tt.now)
			if got := nextRun(now, tt.every).Format(time.RFC3339); got != tt.wantNextAt {
				t.Errorf("next run %s, want %s", got, tt.wantNextAt)
			}
		})
	}
}
