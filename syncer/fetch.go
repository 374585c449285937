package syncer

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/sqldb"
	"github.com/cairn-fit/cairn/strava"
	"github.com/klauspost/compress/zstd"
	"golang.org/x/sync/errgroup"
)

// The fetching phase: list what the provider has that cairn lacks (each
// page recorded with the checkpoint in one transaction), then fetch each
// activity's details and streams, staging each answer in the blob store
// as soon as it arrives.

func (r *run) fetch() error {
	switch r.sess.Provider {
	case cairn.ProviderStrava:
		if r.s.cfg.Strava == nil {
			return cairn.Errorf(cairn.EUNAVAILABLE, "Strava is not configured on this server")
		}
		ts, err := r.s.tokenSource(r.ctx, r.sess.UserID, cairn.ProviderStrava)
		if err != nil {
			return err
		}
		if r.sess.Type == cairn.SyncWebhook {
			err = r.listStravaIDs(ts)
		} else {
			err = r.listStrava(ts)
		}
		if err != nil {
			return err
		}
		return r.fetchItems(func(it *sqldb.SyncItem) error { return r.fetchStravaItem(ts, it) })
	case cairn.ProviderGarmin:
		return r.fetchGarmin()
	}
	return cairn.Errorf(cairn.EVALIDATION, "unknown provider %q", r.sess.Provider)
}

// listStrava lists the athlete's activities oldest first, a page after
// the newest start seen (pages by time, not by number, so that new
// activities arriving meanwhile do not shift them), keeping those in the
// session's range that cairn does not have.
func (r *run) listStrava(ts *tokenSource) error {
	sess, cp := r.sess, &r.sess.Checkpoint
	size := r.s.cfg.PageSize
	for !cp.ListDone {
		after := cp.After
		if after == nil {
			// Always list with after: only then does Strava answer
			// oldest first, which lets the next page start where this
			// one ended.
			a := time.Unix(0, 0).UTC()
			if sess.RangeStart != nil {
				a = sess.RangeStart.Add(-time.Second) // after is strict
			}
			after = &a
		}
		page, err := withToken(r.ctx, ts, func(access string) ([]strava.SummaryActivity, error) {
			return r.s.cfg.Strava.ListActivities(r.ctx, access, strava.ListQuery{After: after, Page: 1, PerPage: size})
		})
		if err != nil {
			return err
		}
		beyond := false
		var ids []string
		for _, a := range page {
			if sess.RangeEnd != nil && !a.StartDate.Before(*sess.RangeEnd) {
				beyond = true
				continue
			}
			ids = append(ids, strconv.FormatInt(a.ID, 10))
		}
		known, err := r.s.cfg.DB.KnownExternalIDs(r.ctx, sess.UserID, cairn.ProviderStrava, ids)
		if err != nil {
			return err
		}
		var items []sqldb.SyncItem
		for _, a := range page {
			id := strconv.FormatInt(a.ID, 10)
			if known[id] || (sess.RangeEnd != nil && !a.StartDate.Before(*sess.RangeEnd)) {
				continue
			}
			summary, err := json.Marshal(a)
			if err != nil {
				return cairn.Wrap(cairn.EINTERNAL, err, "internal error")
			}
			items = append(items, sqldb.SyncItem{Provider: cairn.ProviderStrava, ExternalID: id,
				Start: a.StartDate.UTC(), End: a.End().UTC(), Summary: summary})
		}
		cp.Page++
		if len(page) < size || beyond {
			cp.ListDone = true
		} else {
			// The next page starts a second before the newest start seen,
			// so that activities sharing that second are not skipped
			// (those seen already are recorded once).
			newest := page[len(page)-1].StartDate.UTC()
			next := newest.Add(-time.Second)
			if after != nil && !next.After(*after) {
				next = newest
			}
			cp.After = &next
		}
		if _, err := r.s.cfg.DB.AddSyncItems(r.ctx, sess, r.owner, r.leaseUntil(), items); err != nil {
			return err
		}
	}
	return nil
}

// listStravaIDs is a webhook session's listing: the activities the events
// named, each fetched in detail (its summary and staged details at once).
func (r *run) listStravaIDs(ts *tokenSource) error {
	sess, cp := r.sess, &r.sess.Checkpoint
	for cp.Page < len(cp.IDs) {
		id := cp.IDs[cp.Page]
		cp.Page++
		cp.ListDone = cp.Page >= len(cp.IDs)
		known, err := r.s.cfg.DB.KnownExternalIDs(r.ctx, sess.UserID, cairn.ProviderStrava, []string{id})
		if err != nil {
			return err
		}
		n, err := strconv.ParseInt(id, 10, 64)
		if known[id] || err != nil {
			if err := r.save(); err != nil {
				return err
			}
			continue
		}
		type answer struct {
			d   *strava.DetailedActivity
			raw []byte
		}
		got, err := withToken(r.ctx, ts, func(access string) (answer, error) {
			d, raw, err := r.s.cfg.Strava.Activity(r.ctx, access, n)
			return answer{d, raw}, err
		})
		if cairn.ErrorKind(err) == cairn.KindInvalidData {
			if err := r.save(); err != nil { // gone or private since the event
				return err
			}
			continue
		} else if err != nil {
			cp.Page--
			cp.ListDone = false
			return err
		}
		key := r.stageKey(id, "detail")
		if err := r.stage(key, got.raw); err != nil {
			return err
		}
		summary, _ := json.Marshal(got.d.SummaryActivity) // plain fields: cannot fail
		it := sqldb.SyncItem{SessionID: sess.ID, UserID: sess.UserID, Provider: cairn.ProviderStrava, ExternalID: id,
			Start: got.d.StartDate.UTC(), End: got.d.End().UTC(), Summary: summary}
		if _, err := r.s.cfg.DB.AddSyncItems(r.ctx, sess, r.owner, r.leaseUntil(), []sqldb.SyncItem{it}); err != nil {
			return err
		}
		it.DetailRef = key
		if err := r.s.cfg.DB.UpdateSyncItemStaging(r.ctx, &it); err != nil {
			return err
		}
	}
	return nil
}

// fetchItems runs fetch on every listed item, Concurrency at a time. An
// item the provider refuses for good (gone, invalid) is failed and the
// session goes on; any other error stops the phase once the items in
// flight are done.
func (r *run) fetchItems(fetch func(*sqldb.SyncItem) error) error {
	for {
		items, err := r.s.cfg.DB.SyncItems(r.ctx, r.sess.UserID, r.sess.ID, sqldb.ItemListed, 200)
		if err != nil || len(items) == 0 {
			return err
		}
		if err := r.each(items, func(it *sqldb.SyncItem) error {
			linked, err := r.s.cfg.DB.LinkSameRecording(r.ctx, it)
			if err != nil || linked {
				return err // the same recording is there (a file upload): nothing to fetch
			}
			return r.itemError(it, fetch(it))
		}); err != nil {
			return err
		}
	}
}

// each runs fn on the items, Concurrency at a time, stopping at the
// first error.
func (r *run) each(items []sqldb.SyncItem, fn func(*sqldb.SyncItem) error) error {
	g, ctx := errgroup.WithContext(r.ctx)
	g.SetLimit(r.s.cfg.Concurrency)
	for i := range items {
		if ctx.Err() != nil {
			break
		}
		it := &items[i]
		it.SessionID, it.UserID = r.sess.ID, r.sess.UserID
		g.Go(func() error { return fn(it) })
	}
	return g.Wait()
}

// itemError fails the item when err is about it alone (invalid data, not
// found); other errors are the session's.
func (r *run) itemError(it *sqldb.SyncItem, err error) error {
	if err == nil || cairn.ErrorKind(err) != cairn.KindInvalidData {
		return err
	}
	it.State, it.Error = sqldb.ItemFailed, cairn.ErrorMessage(err)
	r.s.log.WarnContext(r.ctx, "sync item failed", "session", r.sess.ID, "external_id", it.ExternalID, "err", err)
	return r.s.cfg.DB.AdvanceSyncItem(r.ctx, nil, it)
}

// fetchStravaItem fetches and stages an activity's details (unless
// staged already) and streams.
func (r *run) fetchStravaItem(ts *tokenSource, it *sqldb.SyncItem) error {
	id, err := strconv.ParseInt(it.ExternalID, 10, 64)
	if err != nil {
		return cairn.Errorf(cairn.EINVALIDFILE, "Strava id %q is not a number", it.ExternalID)
	}
	if it.DetailRef == "" {
		raw, err := withToken(r.ctx, ts, func(access string) ([]byte, error) {
			_, raw, err := r.s.cfg.Strava.Activity(r.ctx, access, id)
			return raw, err
		})
		if err != nil {
			return err
		}
		key := r.stageKey(it.ExternalID, "detail")
		if err := r.stage(key, raw); err != nil {
			return err
		}
		it.DetailRef = key
		if err := r.s.cfg.DB.UpdateSyncItemStaging(r.ctx, it); err != nil {
			return err
		}
	}
	raw, err := withToken(r.ctx, ts, func(access string) ([]byte, error) {
		return r.s.cfg.Strava.ActivityStreams(r.ctx, access, id)
	})
	if err != nil {
		return err
	}
	key := r.stageKey(it.ExternalID, "streams")
	if err := r.stage(key, raw); err != nil {
		return err
	}
	it.StreamsRef, it.State = key, sqldb.ItemFetched
	return r.s.cfg.DB.AdvanceSyncItem(r.ctx, nil, it)
}

// Staging: provider answers, zstd-compressed, under the session.

func (r *run) stageKey(externalID, part string) string {
	return fmt.Sprintf("users/%s/sync/%s/%s.%s.json.zst", r.sess.UserID, r.sess.ID, externalID, part)
}

// EncodeAll and DecodeAll are safe for concurrent use.
var (
	zenc, _ = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest)) // fixed options: cannot fail
	zdec, _ = zstd.NewReader(nil)
)

func (r *run) stage(key string, raw []byte) error {
	if err := r.s.cfg.Bucket.WriteAll(r.ctx, key, zenc.EncodeAll(raw, nil), nil); err != nil {
		return cairn.Unavailable(cairn.KindTemporary, err, "the blob store is unavailable")
	}
	return nil
}

func (r *run) staged(key string) ([]byte, error) {
	rd, err := r.s.cfg.Bucket.NewReader(r.ctx, key, nil)
	if err != nil {
		return nil, cairn.Unavailable(cairn.KindTemporary, err, "the blob store is unavailable")
	}
	defer rd.Close()
	b, err := io.ReadAll(rd)
	if err != nil {
		return nil, cairn.Unavailable(cairn.KindTemporary, err, "the blob store is unavailable")
	}
	out, err := zdec.DecodeAll(b, nil)
	if err != nil {
		return nil, cairn.Wrap(cairn.EINVALIDFILE, err, "a staged answer is corrupt")
	}
	return out, nil
}

func (r *run) unstage(keys ...string) {
	for _, k := range keys {
		if k != "" {
			_ = r.s.cfg.Bucket.Delete(context.WithoutCancel(r.ctx), k)
		}
	}
}
