package ingest

type bulkBody struct {
	ClientActivityID string  `json:"client_activity_id"`
	Timestamp        string  `json:"timestamp"`
	ActivityType     string  `json:"activity_type"`
	DurationSeconds  int     `json:"duration_seconds"`
	URL              *string `json:"url,omitempty"`
}
