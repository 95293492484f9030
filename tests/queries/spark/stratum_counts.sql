/* Counts per stratum with their denominators, for the results text and the safety table. */
SELECT
  s.stratum_key,
  s.stratum_label,
  s.rule_order AS stratum_order,
  COUNT(f.patient_key) AS n_patients,
  COUNT(f.patient_key) FILTER(WHERE
    f.is_progressed_before_later_therapy) AS n_progressed_before_later_therapy,
  COUNT(f.patient_key) FILTER(WHERE
    f.has_related_autoimmune_post_therapy) AS n_related_autoimmune_post_therapy,
  COUNT(f.patient_key) FILTER(WHERE
    f.is_treatment_related_death) AS n_treatment_related_deaths
FROM study_strata AS s
LEFT JOIN patient_flags AS f
  USING (stratum_key)
GROUP BY
  s.stratum_key,
  s.stratum_label,
  s.rule_order
ORDER BY
  stratum_order NULLS LAST
