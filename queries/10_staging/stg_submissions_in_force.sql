-- For each site, the submission used for analysis at the data cutoff.
-- Once a cutoff has been frozen (cutoff_freezes), its recorded set is used, so rerunning the
-- cutoff after newer extracts arrive reproduces the same numbers. Otherwise: each site's newest
-- accepted extract (stg_newest_accepted).
with frozen as (
    select submission_id
    from cutoff_freezes
    where cutoff_date = getvariable('cutoff_date')
)

select submission_id, site_id, extracted_on, ingest_seq, n_warnings, row_counts
from stg_newest_accepted
where not exists (select 1 from frozen)

union all

select s.submission_id, s.site_id, s.extracted_on, s.ingest_seq, s.n_warnings, s.row_counts
from submissions as s
inner join frozen as f using (submission_id)

order by site_id
