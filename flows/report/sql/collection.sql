-- Report-facing reads of the collection records (flows/collect), installed beside views.sql when the
-- store has them (migration 0018). Run times are run records: shown, never computed from the clock.
CREATE OR REPLACE TEMP VIEW report_collect_calls AS
SELECT r.run_id, r.started_at AS run_started, r.collector, r.status AS run_status, c.call_no, c.platform,
       c.seed, c.endpoint, c.params, c.started_at, c.pages, c.posts, c.status
FROM collect_runs AS r JOIN collect_calls AS c USING (run_id);

CREATE OR REPLACE TEMP VIEW report_collect_runs AS
SELECT run_id, started_at, finished_at, collector, status, pages, posts FROM collect_runs;

CREATE OR REPLACE TEMP VIEW report_collect_seeds AS
SELECT platform, seed, handle, status, error FROM collect_seeds;

CREATE OR REPLACE TEMP VIEW report_collect_flags AS
SELECT platform, flag, count(*) AS posts FROM collect_flags WHERE flag <> 'thread_fetched' GROUP BY ALL;

CREATE OR REPLACE TEMP VIEW report_post_deletions AS
SELECT platform, evidence, count(*) AS posts FROM post_deletions GROUP BY ALL;
