/* Adverse events of the submissions in force. */
/* materialized: view */
SELECT
  s.site_id || ':' || a.patient_id AS patient_key,
  a.ae_id,
  a.onset_date,
  a.term,
  a.autoimmune = 'yes' AS is_autoimmune,
  a.grade,
  a.relatedness,
  a.treatment_id,
  a.outcome,
  a.submission_id,
  a.source_row
FROM adverse_events AS a
INNER JOIN stg_submissions_in_force AS s
  USING (submission_id)
