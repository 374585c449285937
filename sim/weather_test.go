package sim

import (
	"encoding/json"
	"math"
	"net/http"
	"testing"
)

type archive struct {
	Latitude    float64           `json:"latitude"`
	Longitude   float64           `json:"longitude"`
	UTCOffset   int               `json:"utc_offset_seconds"`
	Timezone    string            `json:"timezone"`
	Elevation   float64           `json:"elevation"`
	HourlyUnits map[string]string `json:"hourly_units"`
	Hourly      map[string][]any  `json:"hourly"`
}

func TestWeatherArchive(t *testing.T) {
	sv := newServer(t, Config{Seed: 9})
	vars := "temperature_2m,apparent_temperature,relative_humidity_2m,surface_pressure,wind_speed_10m,wind_direction_10m,weather_code,uv_index"
	var a archive
	sv.get(t, "/v1/archive?latitude=46.0569&longitude=14.5058&start_date=2025-07-01&end_date=2025-07-03&hourly="+vars, "", http.StatusOK, &a)
	if a.Latitude != 46.1 || a.Longitude != 14.5 || a.Timezone != "GMT" || a.UTCOffset != 0 || a.Elevation != 295 {
		t.Errorf("header %+v", a)
	}
	if len(a.Hourly["time"]) != 72 || a.Hourly["time"][0] != "2025-07-01T00:00" || a.HourlyUnits["temperature_2m"] != "°C" {
		t.Fatalf("%d hours from %v, units %v", len(a.Hourly["time"]), a.Hourly["time"][0], a.HourlyUnits)
	}
	temps := a.Hourly["temperature_2m"]
	var lo, hi = math.Inf(1), math.Inf(-1)
	for _, v := range temps {
		lo, hi = math.Min(lo, v.(float64)), math.Max(hi, v.(float64))
	}
	if lo < 5 || hi > 40 || hi-lo < 4 {
		t.Errorf("Ljubljana in July between %.1f and %.1f °C", lo, hi)
	}
	uv := a.Hourly["uv_index"]
	if uv[2].(float64) != 0 || uv[12].(float64) < 2 {
		t.Errorf("UV at 02:00 %v, at 12:00 %v", uv[2], uv[12])
	}
	// the same hour answers the same whatever the range asked
	var one archive
	sv.get(t, "/v1/archive?latitude=46.0569&longitude=14.5058&start_date=2025-07-02&end_date=2025-07-02&hourly=temperature_2m", "", http.StatusOK, &one)
	if one.Hourly["temperature_2m"][5] != temps[29] {
		t.Errorf("02 Jul 05:00: %v alone, %v in a range", one.Hourly["temperature_2m"][5], temps[29])
	}
	var local archive
	sv.get(t, "/v1/archive?latitude=46.0569&longitude=14.5058&start_date=2025-07-02&end_date=2025-07-02&hourly=temperature_2m&timezone=auto", "", http.StatusOK, &local)
	if local.Timezone != "Europe/Ljubljana" || local.UTCOffset != 7200 || local.Hourly["temperature_2m"][7] != temps[29] {
		t.Errorf("auto timezone: %s %d, 07:00 local %v", local.Timezone, local.UTCOffset, local.Hourly["temperature_2m"][7])
	}
	for _, bad := range []string{"latitude=95&longitude=0&start_date=2025-01-01&end_date=2025-01-01&hourly=temperature_2m",
		"latitude=1&longitude=1&start_date=2025-01-02&end_date=2025-01-01&hourly=temperature_2m",
		"latitude=1&longitude=1&start_date=2025-01-01&end_date=2025-01-01&hourly=snow_mood"} {
		var e map[string]any
		sv.get(t, "/v1/archive?"+bad, "", http.StatusBadRequest, &e)
		if e["error"] != true || e["reason"] == "" {
			t.Errorf("%s: %v", bad, e)
		}
	}
}

func TestReverseGeocoding(t *testing.T) {
	sv := newServer(t, Config{Seed: 9})
	var got map[string]any
	sv.get(t, "/reverse?lat=46.06&lon=14.49&format=json", "", http.StatusOK, &got)
	requireKeys(t, "place", got, "place_id", "licence", "lat", "lon", "display_name", "address", "boundingbox")
	addr := got["address"].(map[string]any)
	if addr["city"] != "Ljubljana" || addr["country_code"] != "si" || addr["country"] != "Slovenia" || addr["state"] == "" {
		t.Errorf("address %v", addr)
	}
	sv.get(t, "/reverse?lat=-40&lon=-140&format=json", "", http.StatusOK, &got)
	if got["error"] != "Unable to geocode" {
		t.Errorf("mid-Pacific: %v", got)
	}
	sv.get(t, "/reverse?lat=46&lon=14&format=xml", "", http.StatusBadRequest, nil)
	// every athlete's activities start somewhere the geocoder knows
	token, _ := sv.IssueToken(ProviderStrava, "1001", sv.Athletes()[0], "activity:read_all")
	var list []map[string]any
	sv.get(t, "/api/v3/athlete/activities?per_page=50", token, http.StatusOK, &list)
	for _, a := range list {
		if ll := a["start_latlng"].([]any); len(ll) == 2 {
			var place map[string]any
			sv.get(t, "/reverse?format=jsonv2&lat="+ftoa(ll[0])+"&lon="+ftoa(ll[1]), "", http.StatusOK, &place)
			if place["address"] == nil {
				t.Errorf("start %v is not geocoded: %v", ll, place)
			}
		}
	}
}

func ftoa(v any) string { b, _ := json.Marshal(v); return string(b) }
