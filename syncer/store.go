package syncer

import (
	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/ingest"
	"github.com/cairn-fit/cairn/sqldb"
	"github.com/cairn-fit/cairn/strava"
)

// store is the storing phase: every enriched item becomes an activity
// (through ingest, by the rules of files) with its enrichment, and the
// item is marked stored in the same transaction.
func (r *run) store() error {
	for {
		items, err := r.s.cfg.DB.SyncItems(r.ctx, r.sess.UserID, r.sess.ID, sqldb.ItemEnriched, 100)
		if err != nil || len(items) == 0 {
			return err
		}
		if err := r.each(items, func(it *sqldb.SyncItem) error { return r.itemError(it, r.storeItem(it)) }); err != nil {
			return err
		}
	}
}

func (r *run) storeItem(it *sqldb.SyncItem) error {
	var pa ingest.ProviderActivity
	switch it.Provider {
	case cairn.ProviderStrava:
		rawDetail, err := r.staged(it.DetailRef)
		if err != nil {
			return err
		}
		rawStreams, err := r.staged(it.StreamsRef)
		if err != nil {
			return err
		}
		d, err := strava.DecodeActivity(rawDetail)
		if err != nil {
			return err
		}
		st, err := strava.DecodeStreams(rawStreams)
		if err != nil {
			return err
		}
		if pa, err = stravaActivity(d, st); err != nil {
			return err
		}
	default:
		return cairn.Errorf(cairn.EINVALIDFILE, "%s items are not staged for storing", it.Provider)
	}
	p := itemPoint(it)
	_, err := r.s.cfg.Ingest.StoreProvider(r.ctx, r.sess.UserID, pa, func(tx *sqldb.Tx, res *ingest.ProviderResult) error {
		if res.Created {
			e := &cairn.Enrichment{ActivityID: res.ActivityID, UserID: r.sess.UserID, Weather: it.Weather,
				Place: it.Place, Status: it.EnrichmentStatus}
			if err := tx.UpsertEnrichment(r.ctx, e, p.lat, p.lon); err != nil {
				return err
			}
		}
		it.State, it.ActivityID = sqldb.ItemStored, &res.ActivityID
		return r.s.cfg.DB.AdvanceSyncItem(r.ctx, tx, it)
	})
	if err != nil {
		return err
	}
	r.unstage(it.DetailRef, it.StreamsRef)
	return nil
}
