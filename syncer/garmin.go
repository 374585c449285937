package syncer

import (
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/garmin"
)

// Garmin sends data rather than being read: a Garmin session's fetching
// phase asks for backfills of the range, window by window (30 days at
// most for activities); the activities then come through the usual
// notifications (/webhooks/garmin/…), each stored by its job. A window
// Garmin already received (409) is done: its data came, or comes, from
// the first request.

// garminHistory is how far back a session without a start asks.
const garminHistory = 5 * 365 * 24 * time.Hour

// garminWindow is the longest activity backfill window.
const garminWindow = 30 * 24 * time.Hour

func (r *run) fetchGarmin() error {
	if r.s.cfg.Garmin == nil {
		return cairn.Errorf(cairn.EUNAVAILABLE, "Garmin is not configured on this server")
	}
	ts, err := r.s.tokenSource(r.ctx, r.sess.UserID, cairn.ProviderGarmin)
	if err != nil {
		return err
	}
	sess, cp := r.sess, &r.sess.Checkpoint
	end := r.s.clock.Now().UTC().Truncate(time.Second)
	if sess.RangeEnd != nil {
		end = *sess.RangeEnd
	}
	start := end.Add(-garminHistory)
	if sess.RangeStart != nil {
		start = *sess.RangeStart
	}
	for !cp.ListDone {
		from := start.Add(time.Duration(cp.Page) * garminWindow)
		if !from.Before(end) {
			cp.ListDone = true
			break
		}
		to := from.Add(garminWindow)
		if to.After(end) {
			to = end
		}
		_, err := withToken(r.ctx, ts, func(access string) (struct{}, error) {
			return struct{}{}, r.s.cfg.Garmin.Backfill(r.ctx, access, "activities", from, to)
		})
		if err != nil && err != garmin.ErrAlreadyRequested {
			return err
		}
		cp.Page++
		if err := r.save(); err != nil {
			return err
		}
	}
	return nil
}
