-- The submissions the previous data cutoff froze (none when there is no previous cutoff, or it
-- was never frozen): what the registry said then, to compare with what it says now.
-- materialized: view
select submission_id, site_id
from cutoff_freezes
where cutoff_date = getvariable('previous_cutoff_date')
