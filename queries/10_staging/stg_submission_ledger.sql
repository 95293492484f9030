-- Every submission the registry received, accepted or rejected, with its outcome and whether it
-- is in force: its site's newest accepted extract (stg_newest_accepted), which a new data
-- cutoff would use.
-- (read by toolkit status, not by an analysis: a view costs nothing)
-- materialized: view
select
    s.site_id,
    s.ingest_seq,
    s.submission_id,
    s.source_name,
    s.extracted_on,
    s.received_on,
    s.status,
    s.n_errors,
    s.n_warnings,
    n.submission_id is not null as is_in_force
from submissions as s
left join stg_newest_accepted as n on s.submission_id = n.submission_id
