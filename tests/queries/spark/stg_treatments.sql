/* Treatment courses of the submissions in force, with the agent's class. */
/* materialized: view */
SELECT
  s.site_id || ':' || t.patient_id AS patient_key,
  t.treatment_id,
  t.agent,
  t.agent_class,
  t.start_date,
  t.end_date,
  t.doses,
  t.line,
  t.best_response,
  t.submission_id,
  t.source_row
FROM treatments AS t
INNER JOIN stg_submissions_in_force AS s
  USING (submission_id)
