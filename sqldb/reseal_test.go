package sqldb_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/secrets"
	"github.com/cairn-fit/cairn/sqldb"
	"github.com/cairn-fit/cairn/sqldb/dbtest"
)

func ring(t *testing.T, lines ...string) *secrets.Keyring {
	t.Helper()
	k, err := secrets.Parse(strings.Join(lines, ","))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestResealSecrets(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		l1, _ := secrets.NewKey("k1")
		l2, _ := secrets.NewKey("k2")
		old, both, fresh := ring(t, l1), ring(t, l1, l2), ring(t, l2)
		u := mustUser(t, db, "ada@example.com")
		now := any(time.Now().UTC().Format(sqldb.TimeLayout))
		if db.Dialect() == "postgres" {
			now = time.Now()
		}
		// plain holds every sealed value's plaintext by column and row.
		plain := map[string]string{}
		seal := func(table, column, id string) []byte {
			p := fmt.Sprintf("%s/%s/%s", table, column, id)
			plain[table+"."+column+"/"+id] = p
			c, err := old.Seal([]byte(p), secrets.AD(table, column, id))
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := db.Writer().Exec(q, args...); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 5 {
			// A connection's tokens are bound to its user and provider.
			id, place := sqldb.NewID(), fmt.Sprintf("%s/p%d", u.ID, i)
			var refresh []byte
			if i != 2 {
				refresh = seal("provider_connections", "refresh_token_enc", place)
			}
			exec(`INSERT INTO provider_connections (id, user_id, provider, access_token_enc, refresh_token_enc, created_at, updated_at)
				VALUES ($1, $2, $3, $4, $5, $6, $6)`, id, u.ID, fmt.Sprintf("p%d", i), seal("provider_connections", "access_token_enc", place), refresh, now)
		}
		for i := range 3 {
			id := sqldb.NewID()
			var prev []byte
			if i == 0 {
				prev = seal("webhook_endpoints", "old_secret_enc", id)
			}
			exec(`INSERT INTO webhook_endpoints (id, user_id, url, secret_enc, old_secret_enc, created_at, updated_at)
				VALUES ($1, $2, 'https://example.com/hook', $3, $4, $5, $5)`, id, u.ID, seal("webhook_endpoints", "secret_enc", id), prev, now)
		}
		f := &cairn.MFAFactor{ID: sqldb.NewID(), UserID: u.ID, Kind: cairn.MFATOTP}
		f.SecretEnc = seal("mfa_factors", "secret_enc", f.ID)
		if err := db.CreateMFAFactor(sys, f); err != nil {
			t.Fatal(err)
		}

		rotate := func(col sqldb.EncryptedColumn, id string, sealed []byte) ([]byte, error) {
			out, changed, err := both.Reseal(sealed, secrets.AD(col.Table, col.Column, id))
			if !changed {
				return nil, err
			}
			return out, err
		}
		_, err := db.ResealSecrets(admin, 2, rotate)
		wantCode(t, err, cairn.EFORBIDDEN)
		stats, err := db.ResealSecrets(sys, 2, rotate)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]int{"provider_connections.access_token_enc": 5, "provider_connections.refresh_token_enc": 4,
			"webhook_endpoints.secret_enc": 3, "webhook_endpoints.old_secret_enc": 1, "mfa_factors.secret_enc": 1}
		for _, s := range stats {
			if s.Scanned != want[s.Column] || s.Resealed != want[s.Column] || s.Skipped != 0 {
				t.Errorf("%+v, want %d", s, want[s.Column])
			}
		}
		if len(stats) != len(want) {
			t.Fatalf("stats for %d columns: %+v", len(stats), stats)
		}
		// Everything opens with the new key alone, each at its place.
		check := func() {
			t.Helper()
			n := 0
			for _, col := range sqldb.EncryptedColumns() {
				place := "id"
				if col.Table == "provider_connections" {
					place = "user_id || '/' || provider"
				}
				rows, err := db.Reader().Query(fmt.Sprintf("SELECT %s, %s FROM %s WHERE %s IS NOT NULL", place, col.Column, col.Table, col.Column))
				if err != nil {
					t.Fatal(err)
				}
				for rows.Next() {
					var id string
					var c []byte
					if err := rows.Scan(&id, &c); err != nil {
						t.Fatal(err)
					}
					p, err := fresh.Open(c, secrets.AD(col.Table, col.Column, id))
					if err != nil || string(p) != plain[col.String()+"/"+id] {
						t.Fatalf("%s %s: %q %v", col, id, p, err)
					}
					n++
				}
				rows.Close()
			}
			if n != len(plain) {
				t.Fatalf("checked %d secrets, sealed %d", n, len(plain))
			}
		}
		check()
		// Again: nothing to do.
		stats, err = db.ResealSecrets(sys, 2, rotate)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range stats {
			if s.Resealed != 0 || s.Scanned != want[s.Column] {
				t.Errorf("second run: %+v", s)
			}
		}
		check()

		// A row written meanwhile is left as its writer sealed it.
		l3, _ := secrets.NewKey("k3")
		third := ring(t, l1, l2, l3)
		var raced string
		racing := func(col sqldb.EncryptedColumn, id string, sealed []byte) ([]byte, error) {
			if col.Table == "mfa_factors" {
				raced = id
				c, _ := third.Seal([]byte("changed meanwhile"), secrets.AD(col.Table, col.Column, id))
				exec("UPDATE mfa_factors SET secret_enc = $1 WHERE id = $2", c, id)
			}
			out, changed, err := third.Reseal(sealed, secrets.AD(col.Table, col.Column, id))
			if !changed {
				return nil, err
			}
			return out, err
		}
		stats, err = db.ResealSecrets(sys, 100, racing)
		if err != nil {
			t.Fatal(err)
		}
		if s := stats[len(stats)-1]; s.Column != "mfa_factors.secret_enc" || s.Skipped != 1 || s.Resealed != 0 {
			t.Fatalf("raced row: %+v", s)
		}
		got, _ := db.FindMFAFactor(sys, u.ID, raced)
		if p, err := third.Open(got.SecretEnc, secrets.AD("mfa_factors", "secret_enc", raced)); err != nil || string(p) != "changed meanwhile" {
			t.Fatalf("the concurrent write was overwritten: %q %v", p, err)
		}

		// A ciphertext moved to another row does not open there: the
		// rotation stops and names the row.
		var a, b string
		var ca []byte
		if err := db.Reader().QueryRow("SELECT id, access_token_enc FROM provider_connections ORDER BY id LIMIT 1").Scan(&a, &ca); err != nil {
			t.Fatal(err)
		}
		if err := db.Reader().QueryRow("SELECT id FROM provider_connections ORDER BY id DESC LIMIT 1").Scan(&b); err != nil {
			t.Fatal(err)
		}
		exec("UPDATE provider_connections SET access_token_enc = $1 WHERE id = $2", ca, b)
		l4, _ := secrets.NewKey("k4")
		fourth := ring(t, l1, l2, l3, l4)
		_, err = db.ResealSecrets(sys, 100, func(col sqldb.EncryptedColumn, id string, sealed []byte) ([]byte, error) {
			out, changed, err := fourth.Reseal(sealed, secrets.AD(col.Table, col.Column, id))
			if !changed {
				return nil, err
			}
			return out, err
		})
		if err == nil || !strings.Contains(err.Error(), b) {
			t.Fatalf("a moved ciphertext: %v", err)
		}
	})
}
