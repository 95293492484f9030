-- For each site, the submission used for analysis at the data cutoff.
-- Once a cutoff has been frozen (cutoff_freezes), its recorded set is used, so rerunning the
-- cutoff after newer extracts arrive reproduces the same numbers. Otherwise: the newest accepted
-- extract of each site (a site's extract is a full snapshot; a newer one supersedes the older
-- without deleting it).
with frozen as (
    select submission_id
    from cutoff_freezes
    where cutoff_date = getvariable('cutoff_date')
),

ranked_accepted as (
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
  and not exists (select 1 from frozen)

union all

select s.submission_id, s.site_id, s.extracted_on, s.ingest_seq, s.n_warnings, s.row_counts
from submissions as s
inner join frozen as f using (submission_id)
