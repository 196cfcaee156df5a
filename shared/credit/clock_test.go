package credit_test

import (
	"context"
	"testing"
	"time"

	"creditanalysis/shared/credit"
	"creditanalysis/shared/memory"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestClockNow(t *testing.T) {
	saoPaulo := time.FixedZone("-03", -3*60*60)
	cases := []struct {
		name  string
		clock credit.Clock
		want  time.Time
	}{
		{name: "sub-millisecond digits dropped", clock: func() time.Time { return time.Date(2026, 11, 26, 12, 0, 0, 123_456_789, time.UTC) },
			want: time.Date(2026, 11, 26, 12, 0, 0, 123_000_000, time.UTC)},
		{name: "another zone read in UTC", clock: func() time.Time { return time.Date(2026, 11, 26, 9, 0, 0, 999_999_999, saoPaulo) },
			want: time.Date(2026, 11, 26, 12, 0, 0, 999_000_000, time.UTC)},
		{name: "whole milliseconds kept", clock: func() time.Time { return time.Date(2026, 11, 26, 12, 0, 0, 5_000_000, time.UTC) },
			want: time.Date(2026, 11, 26, 12, 0, 0, 5_000_000, time.UTC)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.clock.Now()
			assert.True(t, tc.want.Equal(got), "got %s", got)
			assert.Equal(t, time.UTC, got.Location())
		})
	}
}

func TestZeroClockIsTheSystemsInMilliseconds(t *testing.T) {
	before := time.Now().Truncate(time.Millisecond)
	got := credit.Clock(nil).Now()
	after := time.Now()
	assert.Equal(t, time.UTC, got.Location())
	assert.Zero(t, got.Nanosecond()%int(time.Millisecond))
	assert.False(t, got.Before(before) || got.After(after), "%s not within [%s, %s]", got, before, after)
}

// The services that stamped the full precision of the clock (parties,
// integrations, password changes) stamp what the stores keep, like the
// others.
func TestPartyStampsTheClocksMilliseconds(t *testing.T) {
	at := time.Date(2026, 11, 26, 12, 0, 0, 123_456_789, time.UTC)
	s := &credit.PartyService{Store: memory.New(), Now: func() time.Time { return at }}
	p, created, err := s.Put(context.Background(), credit.PartyCustomer, "c1",
		credit.PartyInput{BranchID: "b1", Document: "529.982.247-25", Name: "Maria da Silva"})
	require.NoError(t, err)
	require.True(t, created)
	assert.Equal(t, at.Truncate(time.Millisecond), p.CreatedAt)
	assert.Equal(t, at.Truncate(time.Millisecond), p.UpdatedAt)
}
