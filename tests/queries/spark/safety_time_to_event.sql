/* Per analysed patient, the time from the start of the safety window to the first */
/* treatment-related autoimmune adverse event, with death before it as a competing event. */
/* The window starts at the later therapy that defines the patient's stratum (at the index date */
/* in strata not defined by later therapy) and ends with follow-up, as in adtte: at death, last */
/* contact or the cutoff. Treatment-related means a relatedness listed in the study. */
/* status: 1 the adverse event; 2 death without it; 0 censored. */
/* Rows come in stratum order, then by patient_key. */
WITH windows AS (
  SELECT
    patient_key,
    stratum_key,
    stratum_order,
    NOT stratum_start_date IS NULL AS is_window_later_therapy,
    COALESCE(stratum_start_date, startdt) AS window_start_date,
    adt,
    is_event
  FROM adtte
), first_events AS (
  SELECT
    w.patient_key,
    MIN(ae.onset_date) AS event_date
  FROM windows AS w
  INNER JOIN stg_adverse_events AS ae
    ON ae.patient_key = w.patient_key
    AND ae.is_autoimmune
    AND ARRAY_CONTAINS(CAST(ARRAY('definite', 'probable', 'possible') AS ARRAY<STRING>), ae.relatedness)
    AND ae.onset_date >= w.window_start_date
    AND ae.onset_date <= w.adt
  GROUP BY
    w.patient_key
)
SELECT
  w.patient_key,
  w.stratum_key,
  w.stratum_order,
  w.is_window_later_therapy,
  w.window_start_date,
  COALESCE(e.event_date, w.adt) AS window_end_date,
  DATEDIFF(DAY, w.window_start_date, COALESCE(e.event_date, w.adt)) AS time_days,
  DATEDIFF(DAY, w.window_start_date, COALESCE(e.event_date, w.adt)) / CAST(30.4375 AS DOUBLE) AS time_months,
  CASE WHEN NOT e.event_date IS NULL THEN 1 WHEN w.is_event THEN 2 ELSE 0 END AS status
FROM windows AS w
LEFT JOIN first_events AS e
  USING (patient_key)
WHERE
  w.window_start_date <= w.adt
ORDER BY
  w.stratum_order NULLS LAST,
  w.patient_key NULLS LAST
