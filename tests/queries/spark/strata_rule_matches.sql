/* Every stratum rule each eligible patient matches, with the date the match began: */
/* a later-therapy rule matches from the first course of one of its classes started on or after */
/* the index date and on or before the cutoff; a baseline rule matches from the index date. */
WITH later_therapy_classes AS (
  SELECT
    rule_order,
    EXPLODE(later_agent_classes) AS agent_class
  FROM study_strata
), later_courses AS (
  SELECT
    e.patient_key,
    c.rule_order,
    t.start_date
  FROM stg_treatments AS t
  INNER JOIN later_therapy_classes AS c
    USING (agent_class)
  INNER JOIN cohort_eligibility AS e
    ON e.patient_key = t.patient_key AND t.start_date >= e.index_date
  WHERE
    e.is_eligible AND t.start_date <= CAST('2015-03-16' AS DATE)
), later_therapy_matches AS (
  SELECT
    patient_key,
    rule_order,
    MIN(start_date) AS match_start_date
  FROM later_courses
  GROUP BY
    patient_key,
    rule_order
), baseline_matches AS (
  SELECT
    e.patient_key,
    r.rule_order,
    e.index_date AS match_start_date
  FROM cohort_eligibility AS e
  INNER JOIN stg_patient_covariates AS v
    ON v.patient_key = e.patient_key
  INNER JOIN study_strata AS r
    ON r.baseline_column = v.covariate AND ARRAY_CONTAINS(r.baseline_values, v.level)
  WHERE
    e.is_eligible
)
SELECT
  patient_key,
  rule_order,
  match_start_date,
  TRUE AS is_later_therapy
FROM later_therapy_matches
UNION ALL
SELECT
  patient_key,
  rule_order,
  match_start_date,
  FALSE AS is_later_therapy
FROM baseline_matches
