package flagged

import . "time"

func dotImported() Time {
	return Now() // want `time.Now reads the wall clock`
}
