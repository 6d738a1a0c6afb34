package flagged_test

import (
	"testing"
	"time"
)

func TestInAnExternalTestPackage(t *testing.T) {
	deadline := time.Date(2027, 3, 14, 2, 30, 0, 0, time.UTC)
	if time.Until(deadline) < 0 { // want `time.Until reads the wall clock`
		t.Log("past")
	}
}
