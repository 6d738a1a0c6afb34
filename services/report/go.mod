module github.com/workpulse/workpulse/services/report

go 1.26.8

require (
	github.com/google/uuid v1.6.0
	github.com/gorilla/mux v1.8.1
	github.com/jackc/pgx/v5 v5.12.0
	github.com/segmentio/kafka-go v0.4.51
	github.com/workpulse/workpulse/api v0.0.0
	github.com/workpulse/workpulse/services/platform v0.0.0
)

replace (
	github.com/workpulse/workpulse/api => ../../api
	github.com/workpulse/workpulse/migrations => ../../migrations
	github.com/workpulse/workpulse/services/platform => ../platform
)
