/* Patients of the submissions in force, keyed across sites by patient_key. */
/* materialized: view */
SELECT
  p.site_id || ':' || p.patient_id AS patient_key,
  p.site_id,
  p.patient_id,
  p.sex,
  p.birth_year,
  p.diagnosis_date,
  p.primary_site,
  p.m_stage,
  p.ecog,
  p.ldh_elevated,
  p.brain_metastases,
  p.braf_status,
  p.vital_status,
  p.last_contact_date,
  p.death_date,
  p.cause_of_death,
  p.submission_id,
  p.source_row
FROM patients AS p
INNER JOIN stg_submissions_in_force AS s
  USING (submission_id)
