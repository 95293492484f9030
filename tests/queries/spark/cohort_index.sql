/* Per patient: the index course (first course of an index agent class with at least the minimum */
/* number of doses, started on or before the cutoff) and whether an excluding therapy started */
/* before it. One pass over the courses: when an excluding course started before the index date, */
/* the first of them is the patient's first excluding course of all. */
/* materialized: view */
WITH first_course_dates AS (
  SELECT
    patient_key,
    MIN(start_date) FILTER(WHERE
      ARRAY_CONTAINS(CAST(ARRAY('il2') AS ARRAY<STRING>), agent_class)
      AND start_date <= CAST('2015-03-16' AS DATE)) AS first_any_start_date,
    MIN(start_date) FILTER(WHERE
      ARRAY_CONTAINS(CAST(ARRAY('il2') AS ARRAY<STRING>), agent_class)
      AND start_date <= CAST('2015-03-16' AS DATE)
      AND COALESCE(doses, 0) >= CAST(1 AS INT)) AS index_date,
    MIN(start_date) FILTER(WHERE
      ARRAY_CONTAINS(CAST(ARRAY('ctla4', 'pd1', 'pdl1') AS ARRAY<STRING>), agent_class)) AS first_excluding_any_start_date
  FROM stg_treatments
  WHERE
    ARRAY_CONTAINS(CAST(ARRAY('il2') AS ARRAY<STRING>), agent_class)
    OR ARRAY_CONTAINS(CAST(ARRAY('ctla4', 'pd1', 'pdl1') AS ARRAY<STRING>), agent_class)
  GROUP BY
    patient_key
)
SELECT
  p.patient_key,
  NOT c.first_any_start_date IS NULL AS has_index_class_course,
  NOT c.index_date IS NULL AS has_dosed_index_course,
  c.index_date,
  CASE
    WHEN c.first_excluding_any_start_date < c.index_date
    THEN c.first_excluding_any_start_date
  END AS first_excluding_start_date,
  NOT first_excluding_start_date IS NULL AS has_prior_excluding_therapy
FROM stg_patients AS p
LEFT JOIN first_course_dates AS c
  USING (patient_key)
