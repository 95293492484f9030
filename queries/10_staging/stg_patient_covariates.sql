-- Baseline categorical covariates in long form (one row per patient and covariate), so strata
-- and Table 1 can refer to a covariate by name. A missing value is the level 'missing'.
with covariates as (
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
)

select patient_key, covariate, level
from (
    unpivot covariates
    on sex, primary_site, m_stage, ecog, ldh_elevated, brain_metastases, braf_status
    into name covariate value level
)
