/* Time-varying view of the strata for the immortal-time analyses: per analysed patient, the */
/* consecutive episodes (tstart, tstop] in days from the index date during which the patient */
/* belonged to one stratum. Everyone starts in the stratum of their baseline rule, or the */
/* default; each later-therapy rule takes over from the day its therapy starts, when it comes */
/* earlier in the rule order than the current one. Death (is_event) is on the last episode. */
/* Episodes of zero length (a therapy on the day follow-up ends) are left out. */
/* A patient with no rule match during follow-up has one episode in the default stratum; only */
/* the patients with matches go through the day-by-day windows. */
WITH default_rule AS (
  SELECT
    rule_order
  FROM study_strata
  WHERE
    is_default
), follow_up_matches AS (
  /* each analysed patient with the rule matches that begin during follow-up (none: one row */
  /* with a null rule_order) */
  SELECT
    a.patient_key,
    DATEDIFF(DAY, a.startdt, m.match_start_date) AS day,
    m.rule_order,
    a.aval_days,
    a.is_event
  FROM adtte AS a
  LEFT JOIN strata_rule_matches AS m
    ON m.patient_key = a.patient_key AND m.match_start_date <= a.adt
), change_points AS (
  /* the matches, and the default rule from day 0 (once per match; grouped by day below) */
  SELECT
    patient_key,
    day,
    rule_order,
    aval_days,
    is_event
  FROM follow_up_matches
  WHERE
    NOT rule_order IS NULL
  UNION ALL
  SELECT
    m.patient_key,
    0 AS day,
    d.rule_order,
    m.aval_days,
    m.is_event
  FROM follow_up_matches AS m
  CROSS JOIN default_rule AS d
  WHERE
    NOT m.rule_order IS NULL
), rule_by_day AS (
  /* per day with a change point: the first rule in force up to that day, and up to the day before */
  SELECT
    patient_key,
    day,
    aval_days,
    is_event,
    MIN(MIN(rule_order)) OVER (
      PARTITION BY patient_key
      ORDER BY day NULLS LAST
      rows BETWEEN UNBOUNDED preceding AND CURRENT ROW
    ) AS current_rule,
    MIN(MIN(rule_order)) OVER (
      PARTITION BY patient_key
      ORDER BY day NULLS LAST
      rows BETWEEN UNBOUNDED preceding AND 1 preceding
    ) AS previous_rule
  FROM change_points
  GROUP BY
    patient_key,
    day,
    aval_days,
    is_event
), changing_episodes AS (
  SELECT
    patient_key,
    day AS tstart_days,
    COALESCE(LEAD(day) OVER (PARTITION BY patient_key ORDER BY day NULLS LAST), aval_days) AS tstop_days,
    current_rule,
    aval_days,
    is_event
  FROM rule_by_day
  WHERE
    previous_rule IS NULL OR current_rule <> previous_rule
), constant_episodes AS (
  SELECT
    m.patient_key,
    0 AS tstart_days,
    m.aval_days AS tstop_days,
    d.rule_order AS current_rule,
    m.aval_days,
    m.is_event
  FROM follow_up_matches AS m
  CROSS JOIN default_rule AS d
  WHERE
    m.rule_order IS NULL
), episodes AS (
  SELECT
    *
  FROM changing_episodes
  UNION ALL
  SELECT
    *
  FROM constant_episodes
)
SELECT
  e.patient_key,
  r.stratum_key AS episode_stratum_key,
  r.stratum_label AS episode_stratum_label,
  e.tstart_days,
  e.tstop_days,
  e.tstart_days / CAST(30.4375 AS DOUBLE) AS tstart,
  e.tstop_days / CAST(30.4375 AS DOUBLE) AS tstop,
  e.is_event AND e.tstop_days = e.aval_days AS is_event
FROM episodes AS e
INNER JOIN study_strata AS r
  ON r.rule_order = e.current_rule
WHERE
  e.tstop_days > e.tstart_days
ORDER BY
  e.patient_key NULLS LAST,
  e.tstart_days NULLS LAST
