/* Table 1, categorical covariates: patients per stratum and level of each baseline covariate of */
/* the study, with missing values as the level 'missing'. A null stratum_key is all patients. */
/* Patients are counted per combination of levels first, so only those few rows are unpivoted */
/* (one select per covariate: DuckDB's UNPIVOT does not carry to other engines). */
WITH level_combinations AS (
  SELECT
    s.stratum_key,
    b.sex,
    b.primary_site,
    b.m_stage,
    b.ecog,
    b.ldh_elevated,
    b.brain_metastases,
    b.braf_status,
    COUNT(*) AS n_patients
  FROM strata AS s
  INNER JOIN stg_patient_baseline AS b
    USING (patient_key)
  GROUP BY
    s.stratum_key,
    b.sex,
    b.primary_site,
    b.m_stage,
    b.ecog,
    b.ldh_elevated,
    b.brain_metastases,
    b.braf_status
), stratum_levels AS (
  SELECT
    stratum_key,
    'sex' AS covariate,
    sex AS level,
    n_patients
  FROM level_combinations
  UNION ALL
  SELECT
    stratum_key,
    'primary_site',
    primary_site,
    n_patients
  FROM level_combinations
  UNION ALL
  SELECT
    stratum_key,
    'm_stage',
    m_stage,
    n_patients
  FROM level_combinations
  UNION ALL
  SELECT
    stratum_key,
    'ecog',
    ecog,
    n_patients
  FROM level_combinations
  UNION ALL
  SELECT
    stratum_key,
    'ldh_elevated',
    ldh_elevated,
    n_patients
  FROM level_combinations
  UNION ALL
  SELECT
    stratum_key,
    'brain_metastases',
    brain_metastases,
    n_patients
  FROM level_combinations
  UNION ALL
  SELECT
    stratum_key,
    'braf_status',
    braf_status,
    n_patients
  FROM level_combinations
)
SELECT
  stratum_key,
  covariate,
  level,
  CAST(SUM(n_patients) AS BIGINT) AS n_patients
FROM stratum_levels
WHERE
  ARRAY_CONTAINS(CAST(ARRAY('age', 'sex') AS ARRAY<STRING>), covariate)
GROUP BY
  GROUPING SETS (
    (stratum_key, covariate, level),
    (covariate, level)
  )
ORDER BY
  covariate NULLS LAST,
  level NULLS LAST,
  stratum_key NULLS LAST
