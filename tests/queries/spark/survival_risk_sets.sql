/* The overall-survival data aggregated for the estimators: one row per stratum, distinct time and */
/* event, with the number of patients. Kaplan–Meier, log-rank, RMST and the reverse Kaplan–Meier */
/* of follow-up take these rows with their counts and give the estimates of the patients' own */
/* rows; the rows number O(distinct times × strata), whatever the number of patients. */
SELECT
  stratum_key,
  stratum_order,
  aval,
  is_event,
  COUNT(*) AS n_patients
FROM adtte
GROUP BY
  stratum_key,
  stratum_order,
  aval,
  is_event
ORDER BY
  stratum_order NULLS LAST,
  aval NULLS LAST,
  is_event NULLS LAST
