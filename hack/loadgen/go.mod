module github.com/workpulse/workpulse/hack/loadgen

go 1.26.8
