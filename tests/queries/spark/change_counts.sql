/* How many changes of each kind since the previous cutoff, for the report's appendix: the */
/* counts of patient_changes by kind (a kind that did not happen has no row), and the treatment */
/* courses whose dates moved. */
/* materialized: view */
SELECT
  change_kind,
  COUNT(*) AS n_changes
FROM patient_changes
GROUP BY
  change_kind
UNION ALL
SELECT
  'treatment_date_changed' AS change_kind,
  COUNT(*) AS n_changes
FROM treatment_changes
