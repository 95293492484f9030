/* Disease assessments of the submissions in force. */
/* materialized: view */
SELECT
  s.site_id || ':' || a.patient_id AS patient_key,
  a.assessment_date,
  a.response,
  a.method,
  a.submission_id,
  a.source_row
FROM assessments AS a
INNER JOIN stg_submissions_in_force AS s
  USING (submission_id)
