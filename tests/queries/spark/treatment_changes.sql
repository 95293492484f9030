/* Treatment courses whose already-reported start or end date moved between the previous */
/* cutoff's submissions and this cutoff's, with the old and new value. Empty when there is no */
/* previous cutoff. Only the submissions that differ between the two cutoffs are compared (see */
/* patient_changes). */
/* materialized: view */
WITH new_submissions AS (
  SELECT
    submission_id
  FROM stg_submissions_in_force
  WHERE
    NOT submission_id IN (
      SELECT
        submission_id
      FROM stg_previous_submissions
    )
), current_courses AS (
  SELECT
    t.patient_key,
    p.site_id,
    p.patient_id,
    t.treatment_id,
    t.start_date,
    t.end_date,
    t.submission_id
  FROM new_submissions AS n
  INNER JOIN stg_treatments AS t
    ON n.submission_id = t.submission_id
  INNER JOIN stg_patients AS p
    ON t.patient_key = p.patient_key
), previous_courses AS (
  SELECT
    *
  FROM stg_previous_treatments
  WHERE
    NOT submission_id IN (
      SELECT
        submission_id
      FROM stg_submissions_in_force
    )
), paired AS (
  SELECT
    c.site_id,
    c.patient_id,
    c.treatment_id,
    p.start_date AS old_start_date,
    c.start_date AS new_start_date,
    p.end_date AS old_end_date,
    c.end_date AS new_end_date,
    p.submission_id AS old_submission_id,
    c.submission_id AS new_submission_id
  FROM current_courses AS c
  INNER JOIN previous_courses AS p
    ON c.patient_key = p.patient_key AND c.treatment_id = p.treatment_id
)
SELECT
  site_id,
  patient_id,
  treatment_id,
  'start_date' AS field_name,
  CAST(old_start_date AS STRING) AS old_value,
  CAST(new_start_date AS STRING) AS new_value,
  old_submission_id,
  new_submission_id
FROM paired
WHERE
  old_start_date IS DISTINCT FROM new_start_date
UNION ALL
SELECT
  site_id,
  patient_id,
  treatment_id,
  'end_date',
  CAST(old_end_date AS STRING),
  CAST(new_end_date AS STRING),
  old_submission_id,
  new_submission_id
FROM paired
WHERE
  old_end_date IS DISTINCT FROM new_end_date
