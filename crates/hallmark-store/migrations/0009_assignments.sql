-- hallmark store, migration 9 (issue #11, halls and assignments): the evaluation assignment an
-- inspection was started from (its id and the registry hall's), as the tablet chose it in
-- 新建评价 and as its bundles (format 3) carry it. NULL for inspections without one.
ALTER TABLE inspections ADD COLUMN assignment_id TEXT;
ALTER TABLE inspections ADD COLUMN hall_id TEXT;
