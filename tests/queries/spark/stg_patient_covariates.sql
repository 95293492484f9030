/* Baseline categorical covariates in long form (one row per patient and covariate), so strata */
/* can refer to a covariate by name. A missing value is the level 'missing'. */
/* One select per column of stg_patient_baseline: DuckDB's UNPIVOT … columns(* exclude …) does */
/* not carry to other engines. */
/* materialized: view */
SELECT
  patient_key,
  'sex' AS covariate,
  sex AS level
FROM stg_patient_baseline
UNION ALL
SELECT
  patient_key,
  'primary_site',
  primary_site
FROM stg_patient_baseline
UNION ALL
SELECT
  patient_key,
  'm_stage',
  m_stage
FROM stg_patient_baseline
UNION ALL
SELECT
  patient_key,
  'ecog',
  ecog
FROM stg_patient_baseline
UNION ALL
SELECT
  patient_key,
  'ldh_elevated',
  ldh_elevated
FROM stg_patient_baseline
UNION ALL
SELECT
  patient_key,
  'brain_metastases',
  brain_metastases
FROM stg_patient_baseline
UNION ALL
SELECT
  patient_key,
  'braf_status',
  braf_status
FROM stg_patient_baseline
