/* Patients as the previous cutoff's submissions reported them, keyed as stg_patients. */
/* materialized: view */
SELECT
  p.site_id || ':' || p.patient_id AS patient_key,
  p.site_id,
  p.patient_id,
  p.diagnosis_date,
  p.vital_status,
  p.last_contact_date,
  p.death_date,
  p.submission_id
FROM patients AS p
INNER JOIN stg_previous_submissions AS s
  ON p.submission_id = s.submission_id
