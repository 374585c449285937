package sim

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
)

// benchSim has one athlete with 400 activities, summaries computed, and
// limits out of the way.
func benchSim(b *testing.B) (*Sim, string) {
	s, err := New(Config{Seed: 1, StravaActivities: 400,
		Limits: Limits{Short: 1 << 30, Daily: 1 << 30, ReadShort: 1 << 30, ReadDaily: 1 << 30}})
	if err != nil {
		b.Fatal(err)
	}
	token, _ := s.IssueToken(ProviderStrava, "1001", s.Athletes()[0], "activity:read_all")
	for _, a := range s.Athletes()[0].Activities {
		s.summary(a)
	}
	return s, token
}

func serve(b *testing.B, s *Sim, token, path string) int {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	w := httptest.NewRecorder()
	s.ServeHTTP(w, req)
	if w.Code != http.StatusOK {
		b.Fatalf("%s: %d", path, w.Code)
	}
	return w.Body.Len()
}

// BenchmarkActivitiesPage serves GET /athlete/activities?per_page=200.
func BenchmarkActivitiesPage(b *testing.B) {
	s, token := benchSim(b)
	b.SetBytes(int64(serve(b, s, token, "/api/v3/athlete/activities?per_page=200")))
	b.ReportAllocs()
	for b.Loop() {
		serve(b, s, token, "/api/v3/athlete/activities?per_page=200")
	}
}

// BenchmarkStreams serves every stream of an hour-and-a-half ride,
// generated afresh each time as the simulator does.
func BenchmarkStreams(b *testing.B) {
	s, token := benchSim(b)
	var ride *Activity
	for _, a := range s.Athletes()[0].Activities {
		if a.SportType == "Ride" && a.Elapsed > 5000 {
			ride = a
			break
		}
	}
	path := "/api/v3/activities/" + strconv.FormatInt(ride.ID, 10) +
		"/streams?keys=time,latlng,distance,altitude,velocity_smooth,heartrate,cadence,watts,temp,moving,grade_smooth&key_by_type=true"
	b.SetBytes(int64(serve(b, s, token, path)))
	b.ReportAllocs()
	for b.Loop() {
		serve(b, s, token, path)
	}
	b.ReportMetric(float64(ride.Elapsed+1), "samples/op")
}
