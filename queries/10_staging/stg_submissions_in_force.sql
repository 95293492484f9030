-- For each site, the submission used for analysis: the newest accepted extract.
-- A site's extract is a full snapshot, so a newer one supersedes the older without deleting it.
with ranked_accepted as (
    select
        submission_id,
        site_id,
        extracted_on,
        ingest_seq,
        row_number() over (
            partition by site_id order by extracted_on desc, ingest_seq desc
        ) as recency_rank
    from submissions
    where status = 'accepted'
)

select submission_id, site_id, extracted_on, ingest_seq
from ranked_accepted
where recency_rank = 1
