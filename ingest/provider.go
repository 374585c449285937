package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/sqldb"
)

// ProviderActivity is one activity from a provider (Strava's streams,
// Garmin's FIT file), decoded into cairn's model.
type ProviderActivity struct {
	Provider   string // cairn.ProviderStrava, cairn.ProviderGarmin
	ExternalID string // the provider's id of the activity
	// Format names how it came ("strava", "fit"), kept in the metadata.
	Format   string
	Activity cairn.DecodedActivity
	Device   *cairn.DeviceInfo
	// Original is the provider's file, when there is one (a Garmin FIT
	// file): kept under its SHA-256 like an uploaded file.
	Original []byte
	Partial  bool
}

// ProviderResult is what became of a provider activity.
type ProviderResult struct {
	ActivityID string
	// Created is false when the activity was there already: this
	// provider record, or the same recording from another source (a file
	// upload), which now lists this record among its sources.
	Created bool
}

// StoreProvider stores a provider's activity for userID by the rules of
// files: the same normalization, summary and series bundle, and the same
// dedupe (a record already stored is not stored again; the same recording
// from another source, start within 60 s and overlapping, becomes one
// more activity_sources row of the canonical activity). also, when not
// nil, runs in the same transaction once the activity is there (the
// caller's bookkeeping: enrichment, sync progress).
func (s *Service) StoreProvider(ctx context.Context, userID string, pa ProviderActivity,
	also func(tx *sqldb.Tx, res *ProviderResult) error) (*ProviderResult, error) {
	if err := s.canImport(ctx, userID); err != nil {
		return nil, err
	}
	if !cairn.ValidProvider(pa.Provider) || pa.ExternalID == "" {
		return nil, cairn.Invalid(map[string]string{"provider": "a provider activity needs its provider and id"})
	}
	file := &cairn.DecodedFile{Format: pa.Format, Kind: cairn.KindActivity, Device: pa.Device,
		Activities: []cairn.DecodedActivity{pa.Activity}, Partial: pa.Partial}
	p := &plan{svc: s, userID: userID, file: file,
		provider: &cairn.ActivitySource{Source: pa.Provider, Provider: pa.Provider, ExternalID: pa.ExternalID}}
	if len(pa.Original) > 0 {
		sum := sha256.Sum256(pa.Original)
		p.hash = hex.EncodeToString(sum[:])
		p.originalKey = fmt.Sprintf("users/%s/originals/%s.%s", userID, p.hash, pa.Format)
		if err := p.put(ctx, p.originalKey, pa.Original); err != nil {
			return nil, err
		}
	}
	var res *ProviderResult
	err := s.DB.InTx(ctx, func(tx *sqldb.Tx) error {
		res = &ProviderResult{}
		err := p.provided(ctx, tx, res)
		if err == nil && also != nil {
			err = also(tx, res)
		}
		if werr := p.pending.Wait(); err == nil {
			err = werr // commit only once every blob the rows name is stored
		}
		return err
	})
	if err != nil {
		_ = p.pending.Wait()
		p.cleanup()
		return nil, err
	}
	return res, nil
}

// provided stores the plan's one provider activity unless its record is
// known already.
func (p *plan) provided(ctx context.Context, tx *sqldb.Tx, res *ProviderResult) error {
	src := p.provider
	known, err := tx.FindActivityBySource(ctx, p.userID, src.Provider, src.ExternalID)
	if err == nil {
		res.ActivityID = known.ID
		return nil
	} else if cairn.ErrorCode(err) != cairn.ENOTFOUND {
		return err
	}
	deviceID, err := p.device(ctx, tx)
	if err != nil {
		return err
	}
	ids, created, err := p.group(ctx, tx, p.file.Activities, deviceID)
	if err != nil {
		return err
	}
	res.ActivityID, res.Created = ids[0], created
	return nil
}
