package sim

import (
	"math"
	"net/http"
	"strconv"
	"strings"
)

const osmLicence = "Data © OpenStreetMap contributors, ODbL 1.0. https://osm.org/copyright"

// reverse answers a Nominatim reverse geocoding query (GET /reverse,
// format=json or jsonv2) from the simulator's gazetteer: the nearest
// town within 60 km, with a road picked by position, else Nominatim's
// "Unable to geocode".
func (s *Sim) reverse(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	format := v.Get("format")
	if format != "json" && format != "jsonv2" {
		nominatimError(w, "Parameter 'format' must be json or jsonv2 in the simulator.")
		return
	}
	lat, err1 := strconv.ParseFloat(v.Get("lat"), 64)
	lon, err2 := strconv.ParseFloat(v.Get("lon"), 64)
	if err1 != nil || err2 != nil || math.Abs(lat) > 90 || math.Abs(lon) > 180 {
		nominatimError(w, "Floating-point number expected for parameters 'lat' and 'lon'.")
		return
	}
	p, d := nearestPlace(lat, lon)
	if d > geocodeRadiusM {
		writeJSON(w, http.StatusOK, object{{"error", "Unable to geocode"}})
		return
	}
	writeJSON(w, http.StatusOK, place2json(p, lat, lon, format == "jsonv2"))
}

func nominatimError(w http.ResponseWriter, msg string) {
	writeJSON(w, http.StatusBadRequest, object{{"error", object{{"code", 400}, {"message", msg}}}})
}

func place2json(p place, lat, lon float64, v2 bool) object {
	cell := hash(uint64(int64(lat*1000)), uint64(int64(lon*1000)))
	road := p.Roads[cell%uint64(len(p.Roads))]
	address := object{{"road", road}, {"city", p.City}, {"state", p.State}, {"postcode", p.Postcode},
		{"country", p.Country}, {"country_code", p.CountryCode}}
	o := object{{"place_id", int64(cell % 400_000_000)}, {"licence", osmLicence}, {"osm_type", "way"},
		{"osm_id", int64(hash(cell) % 1_000_000_000)}, {"lat", fmtCoord(lat)}, {"lon", fmtCoord(lon)}}
	if v2 {
		o = append(o, field{"category", "highway"}, field{"type", "residential"}, field{"place_rank", 26},
			field{"importance", 0.0533}, field{"addresstype", "road"}, field{"name", road})
	}
	display := strings.Join([]string{road, p.City, p.State, p.Postcode, p.Country}, ", ")
	box := []string{fmtCoord(lat - 0.001), fmtCoord(lat + 0.001), fmtCoord(lon - 0.001), fmtCoord(lon + 0.001)}
	return append(o, field{"display_name", display}, field{"address", address}, field{"boundingbox", box})
}

func fmtCoord(v float64) string { return strconv.FormatFloat(round(v, 7), 'f', -1, 64) }
