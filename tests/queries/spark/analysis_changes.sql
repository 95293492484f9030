/* Patients whose place in the analysis changed between the previous cutoff and this one: those */
/* who left it (with the reason), those who entered it, and those whose stratum changed, each */
/* with the old and new value and the submissions they came from. Empty unless the runner was */
/* given the previous cutoff's patient_analysis (previous_analysis: toolkit compare). */
/* materialized: view */
WITH paired AS (
  SELECT
    COALESCE(c.site_id, p.site_id) AS site_id,
    COALESCE(c.patient_id, p.patient_id) AS patient_id,
    COALESCE(p.is_analysed, FALSE) AS was_analysed,
    COALESCE(c.is_analysed, FALSE) AS is_analysed,
    p.stratum_key AS old_stratum_key,
    c.stratum_key AS new_stratum_key,
    p.stratum_label AS old_stratum_label,
    c.stratum_label AS new_stratum_label,
    CASE
      WHEN p.patient_key IS NULL
      THEN 'not in the site\'s extract'
      ELSE 'not analysed: ' || p.exclusion_reason
    END AS old_exclusion_text,
    CASE
      WHEN c.patient_key IS NULL
      THEN 'not in the site\'s extract'
      ELSE 'not analysed: ' || c.exclusion_reason
    END AS new_exclusion_text,
    p.submission_id AS old_submission_id,
    c.submission_id AS new_submission_id
  FROM patient_analysis AS c
  FULL OUTER JOIN previous_analysis AS p
    ON c.patient_key = p.patient_key
  WHERE
    EXISTS(
      SELECT
        1
      FROM previous_analysis
    )
)
SELECT
  site_id,
  patient_id,
  'left_analysis' AS change_kind,
  'analysis' AS field_name,
  old_stratum_label AS old_value,
  new_exclusion_text AS new_value,
  old_submission_id,
  new_submission_id
FROM paired
WHERE
  was_analysed AND NOT is_analysed
UNION ALL
SELECT
  site_id,
  patient_id,
  'entered_analysis',
  'analysis',
  old_exclusion_text,
  new_stratum_label,
  old_submission_id,
  new_submission_id
FROM paired
WHERE
  NOT was_analysed AND is_analysed
UNION ALL
SELECT
  site_id,
  patient_id,
  'stratum_changed',
  'stratum',
  old_stratum_label,
  new_stratum_label,
  old_submission_id,
  new_submission_id
FROM paired
WHERE
  was_analysed AND is_analysed AND old_stratum_key <> new_stratum_key
