/* Treatment courses as the previous cutoff's submissions reported them. */
/* materialized: view */
SELECT
  s.site_id || ':' || t.patient_id AS patient_key,
  s.site_id,
  t.treatment_id,
  t.start_date,
  t.end_date,
  t.submission_id
FROM treatments AS t
INNER JOIN stg_previous_submissions AS s
  ON t.submission_id = s.submission_id
