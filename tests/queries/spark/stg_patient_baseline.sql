/* Baseline categorical covariates, one row per patient and one column per covariate (the */
/* column name is the covariate's name). A missing value is the level 'missing'. */
/* materialized: view */
SELECT
  patient_key,
  COALESCE(sex, 'missing') AS sex,
  COALESCE(primary_site, 'missing') AS primary_site,
  COALESCE(m_stage, 'missing') AS m_stage,
  COALESCE(CAST(ecog AS STRING), 'missing') AS ecog,
  COALESCE(ldh_elevated, 'missing') AS ldh_elevated,
  COALESCE(brain_metastases, 'missing') AS brain_metastases,
  COALESCE(braf_status, 'missing') AS braf_status
FROM stg_patients
