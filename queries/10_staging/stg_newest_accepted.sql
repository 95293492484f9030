-- Each site's newest accepted submission: the extract in force, which a new data cutoff uses (a
-- site's extract is a full snapshot; a newer one supersedes the older without deleting it).
-- materialized: view
with ranked_accepted as (
    select
        submission_id,
        site_id,
        extracted_on,
        ingest_seq,
        n_warnings,
        row_counts,
        row_number() over (
            partition by site_id order by extracted_on desc, ingest_seq desc
        ) as recency_rank
    from submissions
    where status = 'accepted'
)

select submission_id, site_id, extracted_on, ingest_seq, n_warnings, row_counts
from ranked_accepted
where recency_rank = 1
