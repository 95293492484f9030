/* Each site's newest accepted submission: the extract in force, which a new data cutoff uses (a */
/* site's extract is a full snapshot; a newer one supersedes the older without deleting it). */
/* materialized: view */
WITH ranked_accepted AS (
  SELECT
    submission_id,
    site_id,
    extracted_on,
    ingest_seq,
    n_warnings,
    row_counts,
    ROW_NUMBER() OVER (PARTITION BY site_id ORDER BY extracted_on DESC, ingest_seq DESC) AS recency_rank
  FROM submissions
  WHERE
    status = 'accepted'
)
SELECT
  submission_id,
  site_id,
  extracted_on,
  ingest_seq,
  n_warnings,
  row_counts
FROM ranked_accepted
WHERE
  recency_rank = 1
