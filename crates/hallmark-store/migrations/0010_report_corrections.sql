-- hallmark store, migration 10 (issue #13, report life cycle). Corrected reports (更正): each
-- correction of the report on a site and rubric is a revision (1, 2, …) naming the signed report
-- it replaces (its number and PDF hash) and why; the latest revision is what `report` renders
-- from then on. The first issue stays in report_issues: a correction keeps its 报告日期 and its
-- validity. Append-only, like the issue dates.
CREATE TABLE report_corrections (
    site               TEXT NOT NULL,
    rubric_id          TEXT NOT NULL,
    revision           INTEGER NOT NULL CHECK (revision >= 1),
    corrected_on       TEXT NOT NULL,      -- YYYY-MM-DD, the lead's local date
    reason             TEXT NOT NULL CHECK (length(trim(reason)) > 0),
    supersedes_number  TEXT NOT NULL,
    supersedes_sha256  TEXT NOT NULL,
    recorded_at        TEXT NOT NULL,      -- RFC 3339
    PRIMARY KEY (site, rubric_id, revision)
);
CREATE TRIGGER report_corrections_append_only_update BEFORE UPDATE ON report_corrections
BEGIN SELECT RAISE(ABORT, 'report corrections are append-only'); END;
CREATE TRIGGER report_corrections_append_only_delete BEFORE DELETE ON report_corrections
BEGIN SELECT RAISE(ABORT, 'report corrections are append-only'); END;

-- A re-evaluation's previous report (复评): the signed sidecar of the report this evaluation
-- follows, as the lead named it when the report was first made (`report --previous`), kept so
-- every later make compares with the same one. One per site and rubric, append-only.
CREATE TABLE report_previous (
    site          TEXT NOT NULL,
    rubric_id     TEXT NOT NULL,
    sidecar       BLOB NOT NULL,           -- the previous report's FILE.pdf.sig.json, as read
    recorded_at   TEXT NOT NULL,           -- RFC 3339
    PRIMARY KEY (site, rubric_id)
);
CREATE TRIGGER report_previous_append_only_update BEFORE UPDATE ON report_previous
BEGIN SELECT RAISE(ABORT, 'previous reports are append-only'); END;
CREATE TRIGGER report_previous_append_only_delete BEFORE DELETE ON report_previous
BEGIN SELECT RAISE(ABORT, 'previous reports are append-only'); END;
