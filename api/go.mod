module github.com/workpulse/workpulse/api

go 1.26.8
