-- hallmark store, migration 8 (issue #11, rubrics distributed through sync): rubric files
-- beyond those built into hallmark. On a server, the ones an admin published (hallmark
-- rubric publish); on a tablet or a lead's laptop, the ones it fetched, each with the
-- server's signed release as received. Kept, never replaced: an inspection pins its rubric
-- by hash, and a bundle with one of these imports only where it is known.
CREATE TABLE published_rubrics (
    sha256        TEXT PRIMARY KEY,        -- of the file's text
    rubric_id     TEXT NOT NULL,
    version       TEXT NOT NULL,
    content       TEXT NOT NULL,
    signed        TEXT,                    -- the SignedRubricV1 a server sent (NULL: published here)
    published_at  TEXT NOT NULL,
    UNIQUE (rubric_id, version)
);
CREATE TRIGGER published_rubrics_append_only_update BEFORE UPDATE ON published_rubrics
BEGIN SELECT RAISE(ABORT, 'published rubrics are kept as they are'); END;
CREATE TRIGGER published_rubrics_append_only_delete BEFORE DELETE ON published_rubrics
BEGIN SELECT RAISE(ABORT, 'published rubrics are kept as they are'); END;
