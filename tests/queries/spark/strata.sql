/* Each eligible patient's stratum: the first rule (in rule order) the patient matches, else the */
/* default rule. stratum_start_date is when a later-therapy stratum began (null otherwise). */
/* A patient matches a rule at most once (a rule is later therapy or baseline, not both), so the */
/* first match's other columns come from the row with the lowest rule_order. */
WITH first_match AS (
  SELECT
    patient_key,
    MIN(rule_order) AS rule_order,
    MIN_BY(match_start_date, rule_order) AS match_start_date,
    MIN_BY(is_later_therapy, rule_order) AS is_later_therapy
  FROM strata_rule_matches
  GROUP BY
    patient_key
), default_rule AS (
  SELECT
    rule_order AS default_rule_order
  FROM study_strata
  WHERE
    is_default
)
SELECT
  e.patient_key,
  e.index_date,
  r.stratum_key,
  r.stratum_label,
  r.rule_order AS stratum_order,
  CASE WHEN f.is_later_therapy THEN f.match_start_date END AS stratum_start_date
FROM cohort_eligibility AS e
LEFT JOIN first_match AS f
  USING (patient_key)
CROSS JOIN default_rule AS d
INNER JOIN study_strata AS r
  ON r.rule_order = COALESCE(f.rule_order, d.default_rule_order)
WHERE
  e.is_eligible
