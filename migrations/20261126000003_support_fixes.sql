-- At most one restore may be unfinished at a time: two copiers writing the
-- same bucket would race, and a second run's plan is stale once the first
-- copies. Older unfinished runs (from before this rule) are closed first.
UPDATE restore_runs SET finished_at = now()
WHERE finished_at IS NULL
  AND id <> (SELECT id FROM restore_runs WHERE finished_at IS NULL ORDER BY started_at DESC LIMIT 1);

CREATE UNIQUE INDEX restore_runs_one_unfinished ON restore_runs ((true)) WHERE finished_at IS NULL;
