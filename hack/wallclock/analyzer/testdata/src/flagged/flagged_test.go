package flagged

import (
	"testing"
	"time"
)

func TestInAPackagesOwnTestFile(t *testing.T) {
	start := time.Now() // want `time.Now reads the wall clock`
	_ = start
}
