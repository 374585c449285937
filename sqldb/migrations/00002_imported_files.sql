-- Files whose content has no row of its own to carry their hash (health
-- files become many upserted metrics): importing one again creates nothing.

-- +goose Up
CREATE TABLE imported_files (
    user_id    {{.ID}} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    file_hash  TEXT NOT NULL,
    kind       TEXT NOT NULL,
    created_at {{.TIME}} NOT NULL,
    PRIMARY KEY (user_id, file_hash)
);

-- +goose Down
DROP TABLE imported_files;
