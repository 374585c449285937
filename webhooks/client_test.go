package webhooks_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/sqldb/dbtest"
	"github.com/cairn-fit/cairn/webhooks"
	"github.com/prometheus/client_golang/prometheus"
)

// TestPublic: only public unicast addresses may be delivered to, however
// an internal one is written.
func TestPublic(t *testing.T) {
	for addr, want := range map[string]bool{
		"8.8.8.8": true, "1.1.1.1": true, "2606:4700:4700::1111": true, "93.184.215.14": true,
		"127.0.0.1": false, "127.1.2.3": false, "::1": false, "10.0.0.1": false, "172.16.5.4": false,
		"192.168.1.1": false, "169.254.169.254": false, "100.64.0.1": false, "0.0.0.0": false, "::": false,
		"fe80::1": false, "fc00::1": false, "fd12:3456::1": false, "224.0.0.1": false, "255.255.255.255": false,
		"::ffff:127.0.0.1": false, "::ffff:10.0.0.1": false, "::127.0.0.1": false, "64:ff9b::7f00:1": false,
		"2002:7f00:1::": false, "2001:db8::1": false, "198.18.0.1": false, "192.0.2.1": false,
	} {
		if got := webhooks.Public(netip.MustParseAddr(addr)); got != want {
			t.Errorf("Public(%s) = %v, want %v", addr, got, want)
		}
	}
}

// TestMetrics: attempts, failures, latency and the queue depth reach the
// registry.
func TestMetrics(t *testing.T) {
	e := newEnv(t, dbtest.Open(t, "sqlite"), webhooks.Config{AllowPrivate: true,
		RetrySchedule: []time.Duration{20 * time.Millisecond}})
	reg := prometheus.NewRegistry()
	e.svc.Metrics = webhooks.NewMetrics(reg, e.db.PendingDeliveries)
	r := newReceiver(t)
	r.setAnswer(func(n int) int {
		if n == 1 {
			return 500
		}
		return 200
	})
	ep := e.endpoint(r.URL)
	e.activity("counted")
	r.next(t)
	r.next(t)
	e.eventually("delivered", func() bool { return len(e.deliveries(ep, cairn.DeliveryDelivered)) == 1 })
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			key := f.GetName()
			for _, l := range m.GetLabel() {
				key += "/" + l.GetValue()
			}
			switch {
			case m.Counter != nil:
				got[key] = m.GetCounter().GetValue()
			case m.Gauge != nil:
				got[key] = m.GetGauge().GetValue()
			case m.Histogram != nil:
				got[key] = float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	for key, want := range map[string]float64{
		"cairn_webhook_attempts_total/failed": 1, "cairn_webhook_attempts_total/delivered": 1,
		"cairn_webhook_failures_total/status": 1, "cairn_webhook_delivery_duration_seconds/failed": 1,
		"cairn_webhook_delivery_duration_seconds/delivered": 1, "cairn_webhook_queue_depth": 0,
	} {
		if v, ok := got[key]; !ok || v != want {
			t.Errorf("%s = %v (present %v), want %v", key, v, ok, want)
		}
	}
}
