/* Table 1, age at the index date (calendar year of the index date minus birth year): median and */
/* quartiles (type 7 interpolation, as R's default) per stratum; a null stratum_key is all patients. */
/* The quartiles are computed from the patients per age, by hand: DuckDB's quantile_cont does not */
/* carry to other engines, and percentile_cont … within group becomes an approximation on Spark. */
/* The type 7 quantile p of n sorted ages x(0) … x(n - 1) is x(j) + h (x(j + 1) - x(j)), where */
/* j + h = (n - 1) p; x(k) is the lowest age that more than k patients are at or below. */
WITH stratum_ages AS (
  SELECT
    stratum_key,
    age_years,
    COUNT(*) AS n_patients
  FROM adtte
  WHERE
    ARRAY_CONTAINS(CAST(ARRAY('age', 'sex') AS ARRAY<STRING>), 'age')
  GROUP BY
    stratum_key,
    age_years
), group_ages AS (
  SELECT
    stratum_key,
    age_years,
    n_patients
  FROM stratum_ages
  UNION ALL
  SELECT
    CAST(NULL AS STRING) AS stratum_key,
    age_years,
    SUM(n_patients) AS n_patients
  FROM stratum_ages
  GROUP BY
    age_years
), cumulative_ages AS (
  SELECT
    stratum_key,
    age_years,
    SUM(n_patients) OVER (
      PARTITION BY stratum_key
      ORDER BY age_years NULLS LAST
      rows BETWEEN UNBOUNDED preceding AND CURRENT ROW
    ) AS n_at_or_below,
    CAST(SUM(n_patients) OVER (PARTITION BY stratum_key) AS DOUBLE) AS n_aged
  FROM group_ages
  WHERE
    NOT age_years IS NULL
), order_statistics AS (
  SELECT
    stratum_key,
    MIN(CASE WHEN n_at_or_below > FLOOR((
      n_aged - 1
    ) * 0.25) THEN age_years END) AS q1_low,
    MIN(CASE WHEN n_at_or_below > FLOOR((
      n_aged - 1
    ) * 0.25) + 1 THEN age_years END) AS q1_high,
    (
      n_aged - 1
    ) * 0.25 - FLOOR((
      n_aged - 1
    ) * 0.25) AS q1_fraction,
    MIN(CASE WHEN n_at_or_below > FLOOR((
      n_aged - 1
    ) * 0.5) THEN age_years END) AS median_low,
    MIN(CASE WHEN n_at_or_below > FLOOR((
      n_aged - 1
    ) * 0.5) + 1 THEN age_years END) AS median_high,
    (
      n_aged - 1
    ) * 0.5 - FLOOR((
      n_aged - 1
    ) * 0.5) AS median_fraction,
    MIN(CASE WHEN n_at_or_below > FLOOR((
      n_aged - 1
    ) * 0.75) THEN age_years END) AS q3_low,
    MIN(CASE WHEN n_at_or_below > FLOOR((
      n_aged - 1
    ) * 0.75) + 1 THEN age_years END) AS q3_high,
    (
      n_aged - 1
    ) * 0.75 - FLOOR((
      n_aged - 1
    ) * 0.75) AS q3_fraction
  FROM cumulative_ages
  GROUP BY
    stratum_key,
    n_aged
), group_counts AS (
  SELECT
    stratum_key,
    SUM(CASE WHEN NOT age_years IS NULL THEN n_patients ELSE 0 END) AS n_patients,
    SUM(CASE WHEN age_years IS NULL THEN n_patients ELSE 0 END) AS n_missing,
    MIN(age_years) AS minimum,
    MAX(age_years) AS maximum
  FROM group_ages
  GROUP BY
    stratum_key
)
SELECT
  c.stratum_key,
  'age' AS covariate,
  CAST(c.n_patients AS BIGINT) AS n_patients,
  CAST(c.n_missing AS BIGINT) AS n_missing,
  CAST(o.median_low AS DOUBLE) + o.median_fraction * (
    COALESCE(o.median_high, o.median_low) - o.median_low
  ) AS median,
  CAST(o.q1_low AS DOUBLE) + o.q1_fraction * (
    COALESCE(o.q1_high, o.q1_low) - o.q1_low
  ) AS q1,
  CAST(o.q3_low AS DOUBLE) + o.q3_fraction * (
    COALESCE(o.q3_high, o.q3_low) - o.q3_low
  ) AS q3,
  c.minimum,
  c.maximum
FROM group_counts AS c
LEFT JOIN order_statistics AS o
  ON o.stratum_key IS NOT DISTINCT FROM c.stratum_key
ORDER BY
  c.stratum_key NULLS LAST
