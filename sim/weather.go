package sim

import (
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// hourlyUnits are the Open-Meteo hourly variables the simulator has.
var hourlyUnits = map[string]string{
	"temperature_2m": "°C", "apparent_temperature": "°C", "relative_humidity_2m": "%",
	"dew_point_2m": "°C", "surface_pressure": "hPa", "wind_speed_10m": "km/h", "wind_direction_10m": "°",
	"weather_code": "wmo code", "uv_index": "", "precipitation": "mm", "cloud_cover": "%",
}

// maxWeatherDays bounds one archive request.
const maxWeatherDays = 3660

// conditions are one hour's weather at one grid cell.
type conditions struct {
	temp, apparent, humidity, dew, pressure, wind, direction, uv, precip, cloud float64
	code                                                                        int
}

// gridCell snaps a position to the simulator's 0.1° grid, as Open-Meteo
// answers for its nearest grid cell.
func gridCell(lat, lon float64) (float64, float64) { return round(lat, 1), round(lon, 1) }

// elevationAt is the nearby town's elevation, else a lowland default.
func elevationAt(lat, lon float64) float64 {
	if p, d := nearestPlace(lat, lon); d <= geocodeRadiusM {
		return p.ElevationM
	}
	return 100
}

// temperature is the 2 m air temperature: a mean by latitude and
// elevation, a seasonal and a daily cycle, and weather systems passing
// over days. Activity temp streams are read from it too.
func temperature(seed uint64, lat, lon float64, t time.Time) float64 {
	lat, lon = gridCell(lat, lon)
	return temperatureAt(seed, lat, lon, elevationAt(lat, lon), t)
}

func temperatureAt(seed uint64, lat, lon, elev float64, t time.Time) float64 {
	cell := hash(uint64(int64(lat*10)), uint64(int64(lon*10)))
	hours := float64(t.Unix()) / 3600
	season := math.Cos(2 * math.Pi * (float64(t.YearDay()) - 200) / 365.25)
	if lat < 0 {
		season = -season
	}
	solar := math.Mod(float64(t.UTC().Hour())+float64(t.UTC().Minute())/60+lon/15+48, 24)
	return 28 - 0.35*math.Abs(lat) - 3*elev/1000 + 0.25*math.Abs(lat)*season +
		5*math.Cos(2*math.Pi*(solar-15)/24) + 4*smoothNoise(hours/72, seed, cell, 1) + 1.5*smoothNoise(hours/12, seed, cell, 2)
}

func weatherAt(seed uint64, lat, lon, elev float64, t time.Time) conditions {
	cell := hash(uint64(int64(lat*10)), uint64(int64(lon*10)))
	h := float64(t.Unix()) / 3600
	c := conditions{temp: temperatureAt(seed, lat, lon, elev, t)}
	c.cloud = clamp(50+60*smoothNoise(h/18, seed, cell, 3), 0, 100)
	c.humidity = clamp(70-2*(c.temp-temperatureAt(seed, lat, lon, elev, t.Add(-12*time.Hour)))/2+0.3*c.cloud-15, 15, 100)
	c.wind = clamp(10+9*smoothNoise(h/10, seed, cell, 4)+4*smoothNoise(h/2, seed, cell, 5), 0, 90)
	c.direction = math.Mod(360+180+180*smoothNoise(h/48, seed, cell, 6), 360)
	c.pressure = 1013 - 0.12*elev + 8*smoothNoise(h/96, seed, cell, 7)
	if c.cloud > 80 {
		c.precip = (c.cloud - 80) / 20 * 2.5 * (1 + smoothNoise(h/3, seed, cell, 8)) / 2
	}
	c.dew = dewPoint(c.temp, c.humidity)
	e := c.humidity / 100 * 6.105 * math.Exp(17.27*c.temp/(237.7+c.temp))
	c.apparent = c.temp + 0.33*e - 0.70*c.wind/3.6 - 4
	c.uv = uvIndex(lat, lon, t) * (1 - c.cloud/150)
	c.code = weatherCode(c)
	return c
}

// dewPoint is the Magnus approximation.
func dewPoint(temp, rh float64) float64 {
	g := math.Log(math.Max(rh, 1)/100) + 17.62*temp/(243.12+temp)
	return 243.12 * g / (17.62 - g)
}

// uvIndex grows with the sun's elevation: none at night, about 12 with
// the sun overhead.
func uvIndex(lat, lon float64, t time.Time) float64 {
	r := math.Pi / 180
	decl := 23.44 * math.Sin(2*math.Pi*float64(284+t.YearDay())/365) * r
	solar := float64(t.UTC().Hour()) + float64(t.UTC().Minute())/60 + lon/15
	sinElev := math.Sin(lat*r)*math.Sin(decl) + math.Cos(lat*r)*math.Cos(decl)*math.Cos((solar-12)*15*r)
	return 12 * math.Pow(math.Max(sinElev, 0), 2)
}

// weatherCode is the WMO code the hour's figures suggest.
func weatherCode(c conditions) int {
	switch {
	case c.precip > 0 && c.temp < 0:
		return 71
	case c.precip > 1.5:
		return 63
	case c.precip > 0:
		return 61
	case c.humidity > 97 && c.wind < 5:
		return 45
	case c.cloud > 85:
		return 3
	case c.cloud > 50:
		return 2
	case c.cloud > 20:
		return 1
	}
	return 0
}

func (c conditions) value(name string) any {
	switch name {
	case "temperature_2m":
		return round(c.temp, 1)
	case "apparent_temperature":
		return round(c.apparent, 1)
	case "relative_humidity_2m":
		return math.Round(c.humidity)
	case "dew_point_2m":
		return round(c.dew, 1)
	case "surface_pressure":
		return round(c.pressure, 1)
	case "wind_speed_10m":
		return round(c.wind, 1)
	case "wind_direction_10m":
		return math.Round(c.direction)
	case "weather_code":
		return c.code
	case "uv_index":
		return round(c.uv, 2)
	case "precipitation":
		return round(c.precip, 1)
	}
	return math.Round(c.cloud)
}

// weatherError is Open-Meteo's error body.
func weatherError(w http.ResponseWriter, reason string) {
	writeJSON(w, http.StatusBadRequest, object{{"error", true}, {"reason", reason}})
}

type weatherQuery struct {
	lat, lon   float64
	start, end time.Time
	vars       []string
	loc        *time.Location
}

// weather answers Open-Meteo's historical archive API (GET /v1/archive)
// with hourly variables for the days asked, in GMT or the timezone asked.
func (s *Sim) weather(w http.ResponseWriter, r *http.Request) {
	q, reason := parseWeather(r)
	if reason != "" {
		weatherError(w, reason)
		return
	}
	lat, lon := gridCell(q.lat, q.lon)
	elev := elevationAt(lat, lon)
	series := map[string][]any{}
	var times []string
	for t := q.start; !t.After(q.end); t = t.Add(time.Hour) {
		times = append(times, t.Format("2006-01-02T15:04"))
		c := weatherAt(s.cfg.Seed, lat, lon, elev, t)
		for _, v := range q.vars {
			series[v] = append(series[v], c.value(v))
		}
	}
	units, hourly := object{{"time", "iso8601"}}, object{{"time", times}}
	for _, v := range q.vars {
		units = append(units, field{v, hourlyUnits[v]})
		hourly = append(hourly, field{v, series[v]})
	}
	abbr, offset := q.start.Zone()
	writeJSON(w, http.StatusOK, object{{"latitude", lat}, {"longitude", lon}, {"generationtime_ms", 0.0},
		{"utc_offset_seconds", offset}, {"timezone", zoneName(q.loc)}, {"timezone_abbreviation", abbr},
		{"elevation", elev}, {"hourly_units", units}, {"hourly", hourly}})
}

func zoneName(loc *time.Location) string {
	if loc == time.UTC {
		return "GMT"
	}
	return loc.String()
}

func parseWeather(r *http.Request) (weatherQuery, string) {
	v := r.URL.Query()
	var q weatherQuery
	var err1, err2 error
	q.lat, err1 = strconv.ParseFloat(v.Get("latitude"), 64)
	q.lon, err2 = strconv.ParseFloat(v.Get("longitude"), 64)
	if err1 != nil || err2 != nil || math.Abs(q.lat) > 90 || math.Abs(q.lon) > 180 {
		return q, "Latitude must be in range of -90 to 90°. Longitude must be in range of -180 to 180°."
	}
	if v.Get("daily") != "" {
		return q, "Cannot initialize WeatherVariable from invalid String value " + v.Get("daily") + " for key daily"
	}
	for name := range strings.SplitSeq(v.Get("hourly"), ",") {
		if _, ok := hourlyUnits[name]; !ok && name != "" {
			return q, fmt.Sprintf("Cannot initialize WeatherVariable from invalid String value %s for key hourly", name)
		}
		if name != "" && !slices.Contains(q.vars, name) {
			q.vars = append(q.vars, name)
		}
	}
	var ok bool
	if q.loc, ok = weatherZone(v.Get("timezone"), q.lat, q.lon); !ok {
		return q, "Invalid timezone"
	}
	return q, dates(&q, v.Get("start_date"), v.Get("end_date"))
}

func dates(q *weatherQuery, from, to string) string {
	start, err1 := time.ParseInLocation(time.DateOnly, from, q.loc)
	end, err2 := time.ParseInLocation(time.DateOnly, to, q.loc)
	switch {
	case err1 != nil || err2 != nil:
		return "Parameter 'start_date' and 'end_date' must be dates (yyyy-mm-dd)"
	case end.Before(start):
		return "End-date must be larger or equals than start-date"
	case end.Sub(start) > maxWeatherDays*24*time.Hour:
		return fmt.Sprintf("The simulator serves at most %d days at once", maxWeatherDays)
	}
	q.start, q.end = start, end.Add(23*time.Hour)
	return ""
}

// weatherZone resolves Open-Meteo's timezone parameter; "auto" is the
// zone of the nearby town, else GMT.
func weatherZone(name string, lat, lon float64) (*time.Location, bool) {
	switch name {
	case "", "GMT", "UTC":
		return time.UTC, true
	case "auto":
		if p, d := nearestPlace(lat, lon); d <= geocodeRadiusM {
			return p.location(), true
		}
		return time.UTC, true
	}
	loc, err := time.LoadLocation(name)
	return loc, err == nil
}
