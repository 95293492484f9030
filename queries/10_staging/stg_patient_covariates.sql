-- Baseline categorical covariates in long form (one row per patient and covariate), so strata
-- can refer to a covariate by name. A missing value is the level 'missing'.
-- materialized: view
unpivot stg_patient_baseline
on columns(* exclude (patient_key))
into name covariate value level
