-- Every submission the registry received, accepted or rejected, with its outcome and whether it
-- is in force: the newest accepted extract of its site, which a new data cutoff would use (a
-- site's extract is a full snapshot; a newer one supersedes the older without deleting it).
-- (read by toolkit status, not by an analysis: a view costs nothing)
-- materialized: view
with ranked_accepted as (
    select
        submission_id,
        row_number() over (
            partition by site_id order by extracted_on desc, ingest_seq desc
        ) as recency_rank
    from submissions
    where status = 'accepted'
)

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
    coalesce(r.recency_rank = 1, false) as is_in_force
from submissions as s
left join ranked_accepted as r on s.submission_id = r.submission_id
