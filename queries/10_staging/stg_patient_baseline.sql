-- Baseline categorical covariates, one row per patient and one column per covariate (the
-- column name is the covariate's name). A missing value is the level 'missing'.
-- materialized: view
select
    patient_key,
    coalesce(sex, 'missing') as sex,
    coalesce(primary_site, 'missing') as primary_site,
    coalesce(m_stage, 'missing') as m_stage,
    coalesce(cast(ecog as varchar), 'missing') as ecog,
    coalesce(ldh_elevated, 'missing') as ldh_elevated,
    coalesce(brain_metastases, 'missing') as brain_metastases,
    coalesce(braf_status, 'missing') as braf_status
from stg_patients
