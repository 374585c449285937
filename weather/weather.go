// Package weather is cairn's client of the services that enrich an
// activity: Open-Meteo's historical archive (GET /v1/archive, hourly
// variables: https://open-meteo.com/en/docs/historical-weather-api) for the
// weather at its start, and Nominatim's reverse geocoding (GET /reverse:
// https://nominatim.org/release-docs/latest/api/Reverse/) for the city,
// state and country. Both go through a provider.Caller (backoff, circuit
// breaker; Nominatim's usage policy asks for at most one call a second).
package weather

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/provider"
)

// hourly are the archive variables cairn asks for.
var hourly = []string{"temperature_2m", "apparent_temperature", "relative_humidity_2m", "surface_pressure",
	"wind_speed_10m", "wind_direction_10m", "weather_code", "uv_index"}

// Client reads Open-Meteo's archive.
type Client struct {
	base   string
	caller *provider.Caller
}

// New returns a client of the archive at baseURL
// (https://archive-api.open-meteo.com).
func New(baseURL string, opt provider.Options) *Client {
	opt.Name = "the weather service"
	return &Client{base: strings.TrimRight(baseURL, "/"), caller: provider.NewCaller(opt)}
}

// Caller is the client's caller, for its counters.
func (c *Client) Caller() *provider.Caller { return c.caller }

// Cell is a point of the archive's grid: positions are rounded to 0.1°
// (about 11 km), the archive's own resolution, so that the activities of
// one area share their lookups.
type Cell struct {
	Lat, Lon float64
}

// CellOf rounds a position to its cell.
func CellOf(lat, lon float64) Cell {
	return Cell{math.Round(lat*10) / 10, math.Round(lon*10) / 10}
}

// Hours returns the hourly weather of the cell for the UTC days from
// start to end (inclusive), keyed by the hour (UTC, truncated).
func (c *Client) Hours(ctx context.Context, cell Cell, start, end time.Time) (map[time.Time]cairn.Weather, error) {
	q := url.Values{
		"latitude": {strconv.FormatFloat(cell.Lat, 'f', -1, 64)}, "longitude": {strconv.FormatFloat(cell.Lon, 'f', -1, 64)},
		"start_date": {start.UTC().Format(time.DateOnly)}, "end_date": {end.UTC().Format(time.DateOnly)},
		"hourly": {strings.Join(hourly, ",")}, "timezone": {"GMT"}, "wind_speed_unit": {"ms"},
	}
	var body struct {
		Hourly struct {
			Time        []string   `json:"time"`
			Temperature []*float64 `json:"temperature_2m"`
			Apparent    []*float64 `json:"apparent_temperature"`
			Humidity    []*float64 `json:"relative_humidity_2m"`
			Pressure    []*float64 `json:"surface_pressure"`
			Wind        []*float64 `json:"wind_speed_10m"`
			Direction   []*float64 `json:"wind_direction_10m"`
			Code        []*float64 `json:"weather_code"`
			UV          []*float64 `json:"uv_index"`
		} `json:"hourly"`
		HourlyUnits map[string]string `json:"hourly_units"`
	}
	err := c.caller.Do(ctx, func(ctx context.Context) (*http.Request, error) {
		return http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/v1/archive?"+q.Encode(), nil)
	}, func(r *provider.Response) error {
		if err := json.Unmarshal(r.Body, &body); err != nil {
			return provider.Malformed("the weather service", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	h := body.Hourly
	// wind_speed_unit=ms is the archive's option; an archive that ignores
	// it answers km/h, and says so in hourly_units.
	windScale := 1.0
	if u := body.HourlyUnits["wind_speed_10m"]; u == "km/h" {
		windScale = 1 / 3.6
	}
	out := make(map[time.Time]cairn.Weather, len(h.Time))
	at := func(xs []*float64, i int) *float64 {
		if i < len(xs) && xs[i] != nil {
			v := *xs[i]
			return &v
		}
		return nil
	}
	for i, ts := range h.Time {
		t, err := time.Parse("2006-01-02T15:04", ts)
		if err != nil {
			return nil, provider.Malformed("the weather service", err)
		}
		w := cairn.Weather{ObservedAt: t.UTC(), TemperatureC: at(h.Temperature, i), FeelsLikeC: at(h.Apparent, i),
			HumidityPct: at(h.Humidity, i), PressureHPa: at(h.Pressure, i), WindSpeedMS: at(h.Wind, i),
			WindDirection: at(h.Direction, i), UVIndex: at(h.UV, i)}
		if w.WindSpeedMS != nil {
			v := math.Round(*w.WindSpeedMS*windScale*100) / 100
			w.WindSpeedMS = &v
		}
		if code := at(h.Code, i); code != nil {
			n := int(*code)
			w.WeatherCode, w.Conditions = &n, Conditions(n)
		}
		out[t.UTC()] = w
	}
	return out, nil
}

// Conditions names a WMO weather interpretation code (the codes
// Open-Meteo documents).
func Conditions(code int) string {
	switch {
	case code == 0:
		return "clear"
	case code == 1:
		return "mainly clear"
	case code == 2:
		return "partly cloudy"
	case code == 3:
		return "overcast"
	case code == 45 || code == 48:
		return "fog"
	case code >= 51 && code <= 57:
		return "drizzle"
	case code >= 61 && code <= 67, code >= 80 && code <= 82:
		return "rain"
	case code >= 71 && code <= 77, code == 85 || code == 86:
		return "snow"
	case code >= 95:
		return "thunderstorm"
	}
	return fmt.Sprintf("code %d", code)
}

// Geocoder reverse geocodes positions with Nominatim.
type Geocoder struct {
	base   string
	caller *provider.Caller
	agent  string
}

// NewGeocoder returns a client of the Nominatim server at baseURL
// (https://nominatim.openstreetmap.org); userAgent identifies cairn, as
// the usage policy requires.
func NewGeocoder(baseURL, userAgent string, opt provider.Options) *Geocoder {
	opt.Name = "the geocoder"
	return &Geocoder{base: strings.TrimRight(baseURL, "/"), caller: provider.NewCaller(opt), agent: userAgent}
}

// Caller is the geocoder's caller, for its counters.
func (g *Geocoder) Caller() *provider.Caller { return g.caller }

// PlaceKey rounds a position to about a kilometre (0.01°), the grain at
// which places are looked up and cached.
func PlaceKey(lat, lon float64) (float64, float64) {
	return math.Round(lat*100) / 100, math.Round(lon*100) / 100
}

// Reverse returns the place at the position, or nil when there is none
// (the sea, a desert: Nominatim's "Unable to geocode").
func (g *Geocoder) Reverse(ctx context.Context, lat, lon float64) (*cairn.Place, error) {
	q := url.Values{"lat": {strconv.FormatFloat(lat, 'f', -1, 64)}, "lon": {strconv.FormatFloat(lon, 'f', -1, 64)},
		"format": {"jsonv2"}, "zoom": {"10"}, "addressdetails": {"1"}}
	var body struct {
		Error   any `json:"error"`
		Address struct {
			City, Town, Village, Municipality, County string
			State, Country                            string
		} `json:"address"`
	}
	err := g.caller.Do(ctx, func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.base+"/reverse?"+q.Encode(), nil)
		if err == nil {
			req.Header.Set("User-Agent", g.agent)
		}
		return req, err
	}, func(r *provider.Response) error {
		if err := json.Unmarshal(r.Body, &body); err != nil {
			return provider.Malformed("the geocoder", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if body.Error != nil {
		return nil, nil
	}
	a := body.Address
	city := a.City
	for _, alt := range []string{a.Town, a.Village, a.Municipality, a.County} {
		if city == "" {
			city = alt
		}
	}
	return &cairn.Place{City: city, State: a.State, Country: a.Country}, nil
}
