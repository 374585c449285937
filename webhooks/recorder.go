package webhooks

import (
	"context"
	"sync"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/sqldb"
)

// recorder writes the outcomes of attempts in groups: while one group is
// being written, the outcomes that arrive wait and go in the next, so
// that a busy queue commits once per group rather than once per delivery,
// and an idle one waits for nothing. Each worker still returns only once
// its outcome is stored, before River marks its job done.
type recorder struct {
	db    *sqldb.DB
	start sync.Once
	in    chan *outcomeRecord
}

type outcomeRecord struct {
	d    *cairn.WebhookDelivery
	done chan error
}

// maxGroup bounds the outcomes written by one statement.
const maxGroup = 200

func newRecorder(db *sqldb.DB) *recorder {
	return &recorder{db: db, in: make(chan *outcomeRecord, maxGroup)}
}

// record stores d's outcome with others arriving meanwhile.
func (r *recorder) record(ctx context.Context, d *cairn.WebhookDelivery) error {
	r.start.Do(func() { go r.loop() })
	rec := &outcomeRecord{d: d, done: make(chan error, 1)}
	select {
	case r.in <- rec:
	case <-ctx.Done():
		return ctx.Err()
	}
	// The write is not abandoned when ctx ends: the worker waits for it,
	// so that it never reports a job done before its outcome is stored.
	return <-rec.done
}

func (r *recorder) loop() {
	for first := range r.in {
		group := []*outcomeRecord{first}
	gather:
		for len(group) < maxGroup {
			select {
			case rec := <-r.in:
				group = append(group, rec)
			default:
				break gather
			}
		}
		ds := make([]*cairn.WebhookDelivery, len(group))
		for i, rec := range group {
			ds[i] = rec.d
		}
		err := r.db.RecordDeliveryAttempts(cairn.SystemContext(context.Background()), ds)
		for _, rec := range group {
			rec.done <- err
		}
	}
}
