/* The submissions the previous data cutoff froze (none when there is no previous cutoff, or it */
/* was never frozen): what the registry said then, to compare with what it says now. */
/* materialized: view */
SELECT
  submission_id,
  site_id
FROM cutoff_freezes
WHERE
  cutoff_date = CAST(NULL AS DATE)
