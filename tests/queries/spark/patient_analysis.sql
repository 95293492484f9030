/* Each patient of the submissions in force: analysed (in which stratum) or not, and the first */
/* reason that excluded them. toolkit compare keeps the earlier cutoff's copy (previous_analysis) */
/* to say who left the analysis, who entered it and whose stratum changed. */
/* materialized: view */
SELECT
  e.patient_key,
  p.site_id,
  p.patient_id,
  e.is_eligible AS is_analysed,
  e.exclusion_reason,
  s.stratum_key,
  s.stratum_label,
  p.submission_id
FROM cohort_eligibility AS e
INNER JOIN stg_patients AS p
  ON e.patient_key = p.patient_key
LEFT JOIN strata AS s
  ON e.patient_key = s.patient_key
