package oauth

// HashForTest is the stored form of a session cookie, for tests that plant
// a session.
var HashForTest = hashOf
