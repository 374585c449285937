package webhooks_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/jobs"
	"github.com/cairn-fit/cairn/postgres"
	"github.com/cairn-fit/cairn/secrets"
	"github.com/cairn-fit/cairn/sqldb"
	"github.com/cairn-fit/cairn/sqldb/dbtest"
	"github.com/cairn-fit/cairn/webhooks"
	"github.com/riverqueue/river"
)

// Benchmarks: deliveries per second to a local receiver, and the latency
// from an event's commit to its delivery at a steady rate, on both
// databases.
//
//	go test -run '^$' -bench . -benchtime 20000x ./webhooks   # deliveries/s over 20,000 deliveries
//	go test -run '^$' -bench EventToDelivery -benchtime 1x ./webhooks
//
// CAIRN_BENCH_PG_POOL sets the pgx pool's size on PostgreSQL (pgx's
// default is max(4, CPUs)); production sets it with pool_max_conns in
// the database URL.

// benchQueue is a delivery service whose queue starts when asked.
type benchQueue struct {
	svc   *webhooks.Service
	queue *jobs.Queue
	db    *sqldb.DB
	user  *cairn.User
	ctx   context.Context
}

func newBenchQueue(b *testing.B, dialect string, cfg webhooks.Config) *benchQueue {
	b.Helper()
	tdb := dbtest.Open(b, dialect)
	db, pool := tdb.DB, tdb.Pool
	if n := os.Getenv("CAIRN_BENCH_PG_POOL"); n != "" && dialect == "postgres" {
		var err error
		if db, pool, err = postgres.Open(context.Background(), tdb.URL+"?pool_max_conns="+n); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { db.Close(); pool.Close() })
	}
	line, _ := secrets.NewKey("bench")
	keys, _ := secrets.Parse(line)
	cfg.AllowPrivate = true
	svc := webhooks.New(db, keys, cfg, nil, nil)
	workers := river.NewWorkers()
	svc.Register(workers)
	q, err := jobs.New(db, pool, jobs.Config{Workers: workers,
		Queues: map[string]river.QueueConfig{webhooks.QueueName: svc.Queue()}})
	if err != nil {
		b.Fatal(err)
	}
	svc.Attach(q)
	u := &cairn.User{Email: "bench@example.com"}
	if err := db.CreateUser(cairn.SystemContext(context.Background()), u); err != nil {
		b.Fatal(err)
	}
	return &benchQueue{svc: svc, queue: q, db: db, user: u,
		ctx: cairn.WithActor(context.Background(), cairn.Actor{UserID: u.ID})}
}

func (bq *benchQueue) start(b *testing.B) {
	if err := bq.queue.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = bq.queue.Stop(ctx)
	})
}

// endpoints registers n endpoints on url.
func (bq *benchQueue) endpoints(b *testing.B, url string, n int) {
	for i := range n {
		if err := bq.svc.CreateEndpoint(bq.ctx, &cairn.WebhookEndpoint{URL: fmt.Sprintf("%s/%d", url, i), Enabled: true}); err != nil {
			b.Fatal(err)
		}
	}
}

// events records n events, 100 to a transaction.
func (bq *benchQueue) events(b *testing.B, n int) {
	for n > 0 {
		k := min(n, 100)
		err := bq.db.InTx(bq.ctx, func(tx *sqldb.Tx) error {
			for range k {
				ev := cairn.DeviceSyncedEvent(bq.user.ID, "dev", cairn.TimeWindow{Start: time.Now().Add(-time.Hour), End: time.Now()})
				if err := tx.AppendEvent(bq.ctx, &ev); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		n -= k
	}
}

// BenchmarkDeliveries: b.N deliveries (to 10 endpoints of one local
// receiver) are queued, then the workers start; deliveries/s is how fast
// they are all sent and recorded.
func BenchmarkDeliveries(b *testing.B) {
	for _, dialect := range dbtest.Dialects {
		b.Run(dialect, func(b *testing.B) {
			var got atomic.Int64
			receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				got.Add(1)
			}))
			defer receiver.Close()
			bq := newBenchQueue(b, dialect, webhooks.Config{Workers: 100, EndpointConcurrency: 10})
			const endpoints = 10
			bq.endpoints(b, receiver.URL, endpoints)
			events := (b.N + endpoints - 1) / endpoints
			bq.events(b, events)
			total := events * endpoints
			b.ResetTimer()
			start := time.Now()
			bq.start(b)
			ctx := cairn.SystemContext(context.Background())
			for {
				n, err := bq.db.PendingDeliveries(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if n == 0 {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
			elapsed := time.Since(start)
			b.StopTimer()
			if got.Load() < int64(total) {
				b.Fatalf("%d requests for %d deliveries", got.Load(), total)
			}
			b.ReportMetric(float64(total)/elapsed.Seconds(), "deliveries/s")
		})
	}
}

// BenchmarkEventToDelivery: events are committed at a steady 200 a second
// for 10 seconds, each to one endpoint; the latency from each event's
// time (taken in its transaction) to its arrival at the receiver.
func BenchmarkEventToDelivery(b *testing.B) {
	const rate, seconds = 200, 10
	for _, dialect := range dbtest.Dialects {
		b.Run(dialect, func(b *testing.B) {
			for range b.N {
				var mu sync.Mutex
				var lat []time.Duration
				done := make(chan struct{}, rate*seconds)
				receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					now := time.Now()
					var ev struct {
						CreatedAt time.Time `json:"created_at"`
					}
					body, _ := io.ReadAll(r.Body)
					if json.Unmarshal(body, &ev) == nil {
						mu.Lock()
						lat = append(lat, now.Sub(ev.CreatedAt))
						mu.Unlock()
					}
					done <- struct{}{}
				}))
				bq := newBenchQueue(b, dialect, webhooks.Config{})
				bq.endpoints(b, receiver.URL, 1)
				bq.start(b)
				time.Sleep(time.Second) // let River elect its leader and settle
				tick := time.NewTicker(time.Second / rate)
				for range rate * seconds {
					<-tick.C
					bq.events(b, 1)
				}
				tick.Stop()
				timeout := time.After(30 * time.Second)
				for range rate * seconds {
					select {
					case <-done:
					case <-timeout:
						b.Fatalf("only %d of %d delivered", len(lat), rate*seconds)
					}
				}
				receiver.Close()
				slices.Sort(lat)
				q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
				b.ReportMetric(q(0.5), "p50_ms")
				b.ReportMetric(q(0.99), "p99_ms")
				b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max_ms")
			}
		})
	}
}
