// Package simtest serves the simulator over HTTP for tests, at the
// address it tells its clients (BaseURL): push notifications, OAuth
// redirects and callback URLs point back at it.
package simtest

import (
	"net/http/httptest"
	"testing"

	"github.com/cairn-fit/cairn/sim"
)

// Serve starts the simulator of cfg on a local port for the test's
// duration and returns it with its base URL.
func Serve(t testing.TB, cfg sim.Config) (*sim.Sim, string) {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	cfg.BaseURL = "http://" + srv.Listener.Addr().String()
	s, err := sim.New(cfg)
	if err != nil {
		srv.Close()
		t.Fatal(err)
	}
	srv.Config.Handler = s
	srv.Start()
	t.Cleanup(srv.Close)
	return s, srv.URL
}
