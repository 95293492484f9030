/* Eligibility flow for a CONSORT-style diagram: patients remaining after each step, */
/* and how many each step excluded. */
WITH steps AS (
  SELECT
    *
  FROM VALUES
    (0, 'patients in the registry (submissions in force)'),
    (1, 'with an index therapy course on or before the cutoff'),
    (2, 'with at least one dose of the index therapy'),
    (3, 'without excluding therapy before the index date') AS s(step, label)
)
SELECT
  s.step,
  s.label,
  COUNT(e.patient_key) FILTER(WHERE
    e.exclusion_step IS NULL OR e.exclusion_step > s.step) AS n_remaining,
  COUNT(e.patient_key) FILTER(WHERE
    e.exclusion_step = s.step) AS n_excluded,
  MAX(e.exclusion_reason) FILTER(WHERE
    e.exclusion_step = s.step) AS exclusion_reason
FROM steps AS s
CROSS JOIN cohort_eligibility AS e
GROUP BY
  s.step,
  s.label
ORDER BY
  s.step NULLS LAST
