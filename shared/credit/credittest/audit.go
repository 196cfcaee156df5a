package credittest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"creditanalysis/shared/credit"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// AuditLog is the contract of credit.AuditLog.
func AuditLog(t *testing.T, newLog func(t *testing.T) credit.AuditLog) {
	ctx := context.Background()
	base := time.Now().UTC().Truncate(time.Millisecond).Add(-72 * time.Hour)
	events := []credit.AuditEvent{}
	for k := 0; k < 7; k++ {
		actor := credit.Actor{Subject: "ana", Name: "Ana"}
		if k%2 == 1 {
			actor = credit.Actor{Subject: "bia", Name: "Bia"}
		}
		action := "PUT /parameters"
		if k%3 == 0 {
			action = "POST /integrations"
		}
		events = append(events, credit.AuditEvent{
			ID: fmt.Sprintf("ev-%d", k), At: base.Add(time.Duration(k) * 11 * time.Hour), Actor: actor, Action: action,
			Target: map[string]string{"id": fmt.Sprint(k % 4)}, RequestID: fmt.Sprintf("req-%d", k),
			Outcome: credit.AuditOutcome{Status: 200},
		})
	}
	seed := func(t *testing.T) credit.AuditLog {
		l := newLog(t)
		for _, e := range events {
			require.NoError(t, l.AppendAudit(ctx, e))
		}
		return l
	}
	readAll := func(t *testing.T, l credit.AuditLog, f credit.AuditFilter) []string {
		var ids []string
		cursor := ""
		for pages := 0; pages < 20; pages++ {
			items, next, err := l.ListAudit(ctx, f, credit.Page{Limit: 2, Cursor: cursor})
			require.NoError(t, err)
			for _, e := range items {
				ids = append(ids, e.ID)
			}
			if next == "" {
				return ids
			}
			cursor = next
		}
		t.Fatal("pagination does not end")
		return nil
	}

	t.Run("newest first across days, each event once", func(t *testing.T) {
		l := seed(t)
		assert.Equal(t, []string{"ev-6", "ev-5", "ev-4", "ev-3", "ev-2", "ev-1", "ev-0"}, readAll(t, l, credit.AuditFilter{}))
		items, _, err := l.ListAudit(ctx, credit.AuditFilter{}, credit.Page{Limit: 1})
		require.NoError(t, err)
		assert.Equal(t, events[6], items[0], "every field round-trips")
	})
	t.Run("by actor, by action, both", func(t *testing.T) {
		l := seed(t)
		assert.Equal(t, []string{"ev-5", "ev-3", "ev-1"}, readAll(t, l, credit.AuditFilter{Actor: "bia"}))
		assert.Equal(t, []string{"ev-6", "ev-3", "ev-0"}, readAll(t, l, credit.AuditFilter{Action: "POST /integrations"}))
		assert.Equal(t, []string{"ev-3"}, readAll(t, l, credit.AuditFilter{Actor: "bia", Action: "POST /integrations"}))
	})
	t.Run("by target, alone and with the others", func(t *testing.T) {
		l := seed(t)
		assert.Equal(t, []string{"ev-5", "ev-1"}, readAll(t, l, credit.AuditFilter{TargetID: "1"}))
		assert.Equal(t, []string{"ev-4", "ev-0"}, readAll(t, l, credit.AuditFilter{TargetID: "0"}))
		assert.Equal(t, []string{"ev-0"}, readAll(t, l, credit.AuditFilter{TargetID: "0", Action: "POST /integrations"}))
		assert.Equal(t, []string{"ev-5", "ev-1"}, readAll(t, l, credit.AuditFilter{TargetID: "1", Actor: "bia"}))
		assert.Empty(t, readAll(t, l, credit.AuditFilter{TargetID: "1", Actor: "ana"}))
		assert.Equal(t, []string{"ev-4"}, readAll(t, l, credit.AuditFilter{TargetID: "0", Actor: "ana", Action: "PUT /parameters"}))
		assert.Equal(t, []string{"ev-4"}, readAll(t, l, credit.AuditFilter{TargetID: "0", From: events[1].At}))
		assert.Empty(t, readAll(t, l, credit.AuditFilter{TargetID: "nothing"}))

		// A creation is found by the id it made.
		made := credit.AuditEvent{ID: "ev-9", At: base.Add(70 * time.Hour), Actor: credit.Actor{Subject: "ana"}, Action: "POST /consultations",
			Target: map[string]string{"consultationId": "con-9", "document": "***.982.247-**"}, RequestID: "req-9", Outcome: credit.AuditOutcome{Status: 201}}
		require.NoError(t, l.AppendAudit(ctx, made))
		assert.Equal(t, []string{"ev-9"}, readAll(t, l, credit.AuditFilter{TargetID: "con-9"}))
	})
	t.Run("a list read is found by each record it showed, and once by every other read", func(t *testing.T) {
		l := seed(t)
		shown := credit.AuditEvent{ID: "ev-8", At: base.Add(60 * time.Hour), Actor: credit.Actor{Subject: "bia"}, Action: "GET /parties/{kind}/{id}/consultations",
			Target: map[string]string{"kind": "customer", "id": "0", credit.AuditTargetConsultationIDs: "con-1,con-2,con-1"}, RequestID: "req-8", Outcome: credit.AuditOutcome{Status: 200}}
		require.NoError(t, l.AppendAudit(ctx, shown))
		for _, id := range []string{"con-1", "con-2"} {
			assert.Equal(t, []string{"ev-8"}, readAll(t, l, credit.AuditFilter{TargetID: id}), "found by %s", id)
			assert.Equal(t, []string{"ev-8"}, readAll(t, l, credit.AuditFilter{TargetID: id, Actor: "bia"}), "by %s and its reader", id)
			assert.Empty(t, readAll(t, l, credit.AuditFilter{TargetID: id, Actor: "ana"}), "by %s and another", id)
			assert.Equal(t, []string{"ev-8"}, readAll(t, l, credit.AuditFilter{TargetID: id, Action: shown.Action}))
		}
		assert.Equal(t, []string{"ev-8", "ev-4", "ev-0"}, readAll(t, l, credit.AuditFilter{TargetID: "0"}), "and by the path's id")
		assert.Equal(t, []string{"ev-6", "ev-8", "ev-5", "ev-4", "ev-3", "ev-2", "ev-1", "ev-0"}, readAll(t, l, credit.AuditFilter{}), "once in the trail")
		assert.Equal(t, []string{"ev-8", "ev-5", "ev-3", "ev-1"}, readAll(t, l, credit.AuditFilter{Actor: "bia"}), "once by actor")
		assert.Equal(t, []string{"ev-8"}, readAll(t, l, credit.AuditFilter{Action: shown.Action}), "once by action")
		items, _, err := l.ListAudit(ctx, credit.AuditFilter{TargetID: "con-2"}, credit.Page{Limit: 1})
		require.NoError(t, err)
		require.Len(t, items, 1)
		assert.Equal(t, shown, items[0], "the copy reads as the event")
	})
	t.Run("a long list read is found by every record it showed", func(t *testing.T) {
		l := newLog(t)
		ids := make([]string, 60) // more than one write batch of copies
		for k := range ids {
			ids[k] = fmt.Sprintf("con-%02d", k)
		}
		e := credit.AuditEvent{ID: "ev-long", At: base, Actor: credit.Actor{Subject: "bia"}, Action: "GET /consultations",
			Target: map[string]string{credit.AuditTargetConsultationIDs: strings.Join(ids, ",")}, RequestID: "req-long", Outcome: credit.AuditOutcome{Status: 200}}
		require.NoError(t, l.AppendAudit(ctx, e))
		for _, id := range ids {
			assert.Equal(t, []string{"ev-long"}, readAll(t, l, credit.AuditFilter{TargetID: id}), "found by %s", id)
		}
		assert.Equal(t, []string{"ev-long"}, readAll(t, l, credit.AuditFilter{}), "once in the trail")
	})
	t.Run("period", func(t *testing.T) {
		l := seed(t)
		f := credit.AuditFilter{From: events[2].At, To: events[5].At}
		assert.Equal(t, []string{"ev-4", "ev-3", "ev-2"}, readAll(t, l, f), "from inclusive, to exclusive")
		f.Actor = "ana"
		assert.Equal(t, []string{"ev-4", "ev-2"}, readAll(t, l, f))
	})
	t.Run("a foreign cursor is refused", func(t *testing.T) {
		l := seed(t)
		_, _, err := l.ListAudit(ctx, credit.AuditFilter{}, credit.Page{Cursor: "bm90LWEtY3Vyc29y"})
		assert.Equal(t, credit.CodeInvalidCursor, credit.ErrorCode(err))
	})
}
