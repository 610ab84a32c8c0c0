-- hallmark store, migration 13 (issue #13, report life cycle): a withdrawn report (撤销), recorded
-- in the lead's database that issued it, so the same evaluation is never signed again from here
-- (the signed statement beside the PDF is what verifiers read). One per site and rubric,
-- append-only.
CREATE TABLE report_withdrawals (
    site           TEXT NOT NULL,
    rubric_id      TEXT NOT NULL,
    report_number  TEXT NOT NULL,
    pdf_sha256     TEXT NOT NULL,
    reason         TEXT NOT NULL,
    withdrawn_at   TEXT NOT NULL,          -- RFC 3339
    PRIMARY KEY (site, rubric_id)
);
CREATE TRIGGER report_withdrawals_append_only_update BEFORE UPDATE ON report_withdrawals
BEGIN SELECT RAISE(ABORT, 'report withdrawals are append-only'); END;
CREATE TRIGGER report_withdrawals_append_only_delete BEFORE DELETE ON report_withdrawals
BEGIN SELECT RAISE(ABORT, 'report withdrawals are append-only'); END;
