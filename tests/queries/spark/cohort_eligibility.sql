/* One row per registry patient: eligible or not, and the first reason that excluded them. */
SELECT
  patient_key,
  index_date,
  CASE
    WHEN NOT has_index_class_course
    THEN 'no index therapy course on or before the cutoff'
    WHEN NOT has_dosed_index_course
    THEN 'index therapy course with no dose given'
    WHEN has_prior_excluding_therapy
    THEN 'excluding therapy before the index date'
  END AS exclusion_reason,
  CASE
    WHEN NOT has_index_class_course
    THEN 1
    WHEN NOT has_dosed_index_course
    THEN 2
    WHEN has_prior_excluding_therapy
    THEN 3
  END AS exclusion_step,
  exclusion_reason IS NULL AS is_eligible
FROM cohort_index
