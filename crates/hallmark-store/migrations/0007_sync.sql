-- hallmark store, migration 7 (issue #11, sync): the receipts a sync server signed for the
-- bundles this device pushed. A receipt is the device's proof that its data is held
-- elsewhere; it is kept, never replaced (a bundle pushed to two servers has two).
CREATE TABLE sync_receipts (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    bundle_id      TEXT NOT NULL,
    inspection_id  TEXT NOT NULL,
    server         TEXT NOT NULL,          -- the server certificate's name
    server_url     TEXT NOT NULL,
    events         INTEGER NOT NULL,       -- as the receipt counts them
    photos         INTEGER NOT NULL,
    received_at    TEXT NOT NULL,          -- the server's clock, RFC 3339 UTC
    signed         TEXT NOT NULL,          -- the signed receipt, as received (JSON)
    stored_at      TEXT NOT NULL,
    UNIQUE (bundle_id, server)
);
CREATE INDEX sync_receipts_by_inspection ON sync_receipts(inspection_id, seq);
CREATE TRIGGER sync_receipts_append_only_update BEFORE UPDATE ON sync_receipts
BEGIN SELECT RAISE(ABORT, 'receipts are append-only'); END;
CREATE TRIGGER sync_receipts_append_only_delete BEFORE DELETE ON sync_receipts
BEGIN SELECT RAISE(ABORT, 'receipts are append-only'); END;
