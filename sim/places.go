package sim

import (
	"math"
	"time"
	_ "time/tzdata" // athletes' time zones must not depend on the host's zoneinfo
)

// place is a town of the simulator's small gazetteer: athletes live in
// them, activities start near them, and reverse geocoding answers with
// the nearest one.
type place struct {
	City, State, Country, CountryCode string
	Lat, Lon                          float64
	Zone                              string
	ElevationM                        float64
	Postcode                          string
	Roads                             []string
}

var places = []place{
	{"Ljubljana", "Osrednjeslovenska", "Slovenia", "si", 46.0569, 14.5058, "Europe/Ljubljana", 295, "1000",
		[]string{"Slovenska cesta", "Celovška cesta", "Trg republike"}},
	{"Boulder", "Colorado", "United States", "us", 40.0150, -105.2705, "America/Denver", 1655, "80302",
		[]string{"Pearl Street", "Broadway", "Baseline Road"}},
	{"Girona", "Catalonia", "Spain", "es", 41.9794, 2.8214, "Europe/Madrid", 75, "17001",
		[]string{"Carrer de la Força", "Passeig de la Devesa", "Carrer del Carme"}},
	{"Annecy", "Auvergne-Rhône-Alpes", "France", "fr", 45.8992, 6.1294, "Europe/Paris", 448, "74000",
		[]string{"Avenue d'Albigny", "Rue Royale", "Quai de la Tournette"}},
	{"Christchurch", "Canterbury", "New Zealand", "nz", -43.5321, 172.6362, "Pacific/Auckland", 10, "8011",
		[]string{"Colombo Street", "Riccarton Road", "Papanui Road"}},
	{"Flagstaff", "Arizona", "United States", "us", 35.1983, -111.6513, "America/Phoenix", 2106, "86001",
		[]string{"Route 66", "Milton Road", "San Francisco Street"}},
	{"Iten", "Elgeyo-Marakwet County", "Kenya", "ke", 0.6703, 35.5081, "Africa/Nairobi", 2400, "30700",
		[]string{"Iten-Kabarnet Road", "Kessup Road"}},
	{"Bergen", "Vestland", "Norway", "no", 60.3913, 5.3221, "Europe/Oslo", 12, "5003",
		[]string{"Bryggen", "Nygårdsgaten", "Fjøsangerveien"}},
	{"Cape Town", "Western Cape", "South Africa", "za", -33.9249, 18.4241, "Africa/Johannesburg", 25, "8001",
		[]string{"Long Street", "Main Road", "Victoria Road"}},
}

// geocodeRadiusM is how far from a town reverse geocoding still names it.
const geocodeRadiusM = 60_000

func (p place) location() *time.Location {
	loc, err := time.LoadLocation(p.Zone)
	if err != nil { // embedded tzdata has every zone above
		panic(err)
	}
	return loc
}

// nearestPlace returns the town closest to (lat, lon) and its distance.
func nearestPlace(lat, lon float64) (place, float64) {
	best, bestD := places[0], math.Inf(1)
	for _, p := range places {
		if d := haversine(lat, lon, p.Lat, p.Lon); d < bestD {
			best, bestD = p, d
		}
	}
	return best, bestD
}

const earthRadiusM = 6_371_008.8

// haversine is the great-circle distance in metres. The simulator has
// its own, not geo's, so that it does not share a bug with the code it
// tests.
func haversine(lat1, lon1, lat2, lon2 float64) float64 {
	r := math.Pi / 180
	dLat, dLon := (lat2-lat1)*r, (lon2-lon1)*r
	a := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(lat1*r)*math.Cos(lat2*r)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * earthRadiusM * math.Asin(math.Sqrt(a))
}
