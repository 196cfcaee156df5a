package credit

import "time"

// Clock tells every service the time; the composition root holds one and
// tests set their own. The zero Clock is the system's.
type Clock func() time.Time

// Now is the clock's time in UTC truncated to the millisecond, the
// precision the stores keep (RFC 3339 with milliseconds), so that an
// answer equals the record read back.
func (c Clock) Now() time.Time {
	var t time.Time
	if c != nil {
		t = c()
	} else {
		t = time.Now()
	}
	return t.UTC().Truncate(time.Millisecond)
}
