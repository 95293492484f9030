/* Every submission the registry received, accepted or rejected, with its outcome and whether it */
/* is in force: its site's newest accepted extract (stg_newest_accepted), which a new data */
/* cutoff would use. */
/* (read by toolkit status, not by an analysis: a view costs nothing) */
/* materialized: view */
SELECT
  s.site_id,
  s.ingest_seq,
  s.submission_id,
  s.source_name,
  s.extracted_on,
  s.received_on,
  s.status,
  s.n_errors,
  s.n_warnings,
  NOT n.submission_id IS NULL AS is_in_force
FROM submissions AS s
LEFT JOIN stg_newest_accepted AS n
  ON s.submission_id = n.submission_id
