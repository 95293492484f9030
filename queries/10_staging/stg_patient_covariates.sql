-- Baseline categorical covariates in long form (one row per patient and covariate), so strata
-- can refer to a covariate by name. A missing value is the level 'missing'.
-- One select per column of stg_patient_baseline: DuckDB's UNPIVOT … columns(* exclude …) does
-- not carry to other engines.
-- materialized: view
select patient_key, 'sex' as covariate, sex as level from stg_patient_baseline
union all
select patient_key, 'primary_site', primary_site from stg_patient_baseline
union all
select patient_key, 'm_stage', m_stage from stg_patient_baseline
union all
select patient_key, 'ecog', ecog from stg_patient_baseline
union all
select patient_key, 'ldh_elevated', ldh_elevated from stg_patient_baseline
union all
select patient_key, 'brain_metastases', brain_metastases from stg_patient_baseline
union all
select patient_key, 'braf_status', braf_status from stg_patient_baseline
