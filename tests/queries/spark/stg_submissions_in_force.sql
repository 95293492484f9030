/* For each site, the submission used for analysis at the data cutoff. */
/* Once a cutoff has been frozen (cutoff_freezes), its recorded set is used, so rerunning the */
/* cutoff after newer extracts arrive reproduces the same numbers. Otherwise: each site's newest */
/* accepted extract (stg_newest_accepted). */
WITH frozen AS (
  SELECT
    submission_id
  FROM cutoff_freezes
  WHERE
    cutoff_date = CAST('2015-03-16' AS DATE)
)
SELECT
  submission_id,
  site_id,
  extracted_on,
  ingest_seq,
  n_warnings,
  row_counts
FROM stg_newest_accepted
WHERE
  NOT EXISTS(
    SELECT
      1
    FROM frozen
  )
UNION ALL
SELECT
  s.submission_id,
  s.site_id,
  s.extracted_on,
  s.ingest_seq,
  s.n_warnings,
  s.row_counts
FROM submissions AS s
INNER JOIN frozen AS f
  USING (submission_id)
ORDER BY
  site_id NULLS LAST
