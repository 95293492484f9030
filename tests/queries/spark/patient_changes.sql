/* What changed in the patients between the previous cutoff's submissions and this cutoff's: a */
/* patient new to a site's extract or gone from it, a death added, and an already-reported */
/* diagnosis or death date that moved, each with the old and new value and the submissions */
/* they came from. Empty when there is no previous cutoff. Only the submissions that differ */
/* between the two cutoffs are compared: a site whose submission is the same at both reports the */
/* same rows, so none of its patients changed. */
/* materialized: view */
WITH previous_patients AS (
  SELECT
    *
  FROM stg_previous_patients
  WHERE
    NOT submission_id IN (
      SELECT
        submission_id
      FROM stg_submissions_in_force
    )
), current_patients AS (
  SELECT
    patient_key,
    site_id,
    patient_id,
    diagnosis_date,
    death_date,
    submission_id
  FROM stg_patients
  WHERE
    EXISTS(
      SELECT
        1
      FROM stg_previous_submissions
    )
    AND NOT submission_id IN (
      SELECT
        submission_id
      FROM stg_previous_submissions
    )
), paired AS (
  SELECT
    COALESCE(c.patient_key, p.patient_key) AS patient_key,
    COALESCE(c.site_id, p.site_id) AS site_id,
    COALESCE(c.patient_id, p.patient_id) AS patient_id,
    p.patient_key IS NULL AS is_new,
    c.patient_key IS NULL AS is_gone,
    p.diagnosis_date AS old_diagnosis_date,
    c.diagnosis_date AS new_diagnosis_date,
    p.death_date AS old_death_date,
    c.death_date AS new_death_date,
    p.submission_id AS old_submission_id,
    c.submission_id AS new_submission_id
  FROM current_patients AS c
  FULL OUTER JOIN previous_patients AS p
    ON c.patient_key = p.patient_key
)
SELECT
  site_id,
  patient_id,
  'new_patient' AS change_kind,
  NULL AS field_name,
  NULL AS old_value,
  NULL AS new_value,
  old_submission_id,
  new_submission_id
FROM paired
WHERE
  is_new
UNION ALL
SELECT
  site_id,
  patient_id,
  'patient_dropped',
  NULL,
  NULL,
  NULL,
  old_submission_id,
  new_submission_id
FROM paired
WHERE
  is_gone
UNION ALL
SELECT
  site_id,
  patient_id,
  'death_added',
  'death_date',
  NULL,
  CAST(new_death_date AS STRING),
  old_submission_id,
  new_submission_id
FROM paired
WHERE
  NOT is_new
  AND NOT is_gone
  AND old_death_date IS NULL
  AND NOT new_death_date IS NULL
UNION ALL
SELECT
  site_id,
  patient_id,
  'date_changed',
  'death_date',
  CAST(old_death_date AS STRING),
  CAST(new_death_date AS STRING),
  old_submission_id,
  new_submission_id
FROM paired
WHERE
  NOT is_new
  AND NOT is_gone
  AND NOT old_death_date IS NULL
  AND old_death_date IS DISTINCT FROM new_death_date
UNION ALL
SELECT
  site_id,
  patient_id,
  'date_changed',
  'diagnosis_date',
  CAST(old_diagnosis_date AS STRING),
  CAST(new_diagnosis_date AS STRING),
  old_submission_id,
  new_submission_id
FROM paired
WHERE
  NOT is_new
  AND NOT is_gone
  AND old_diagnosis_date IS DISTINCT FROM new_diagnosis_date
