-- One analysis row per patient for overall survival, in the shape of a CDISC ADaM ADTTE dataset,
-- with the stratum and the baseline covariates.
-- Time starts at the index date; deaths after the cutoff are censored at the cutoff; follow-up
-- ends at the earlier of last contact and the cutoff.
-- CNSR: 0 death; 1 alive, censored at the data cutoff; 2 alive, censored at last contact;
--       3 lost to follow-up, censored at last contact; 4 died after the cutoff, censored at it.
-- Rows come in stratum order, then by patient_key: the order the analysis reads them in.
with outcome as (
    select
        s.patient_key,
        s.stratum_key,
        s.stratum_label,
        s.stratum_order,
        s.stratum_start_date,
        s.index_date as startdt,
        p.site_id,
        p.vital_status,
        p.death_date,
        p.last_contact_date,
        cast(year(s.index_date) - p.birth_year as bigint) as age_years,
        p.sex,
        p.primary_site,
        p.m_stage,
        p.ecog,
        p.ldh_elevated,
        p.brain_metastases,
        p.braf_status,
        case
            when p.death_date <= getvariable('cutoff_date') then 0
            when p.death_date > getvariable('cutoff_date') then 4
            when p.last_contact_date >= getvariable('cutoff_date') then 1
            when p.vital_status = 'lost_to_follow_up' then 3
            else 2
        end as cnsr
    from strata as s
    inner join stg_patients as p using (patient_key)
)

select
    patient_key,
    'OS' as paramcd,
    'Overall survival' as param,
    stratum_key,
    stratum_label,
    stratum_order,
    stratum_start_date,
    startdt,
    case
        when cnsr = 0 then death_date
        when cnsr in (1, 4) then getvariable('cutoff_date')
        else last_contact_date
    end as adt,
    date_diff('day', startdt, adt) as aval_days,
    aval_days / getvariable('days_per_month') as aval,
    cnsr,
    cnsr = 0 as is_event,
    case when cnsr = 0 then 'DEATH' end as evntdesc,
    case cnsr
        when 1 then 'ALIVE AT DATA CUTOFF'
        when 2 then 'LAST KNOWN ALIVE DATE'
        when 3 then 'LOST TO FOLLOW-UP'
        when 4 then 'DEATH AFTER DATA CUTOFF'
    end as cnsdtdsc,
    site_id,
    age_years,
    sex,
    primary_site,
    m_stage,
    ecog,
    ldh_elevated,
    brain_metastases,
    braf_status
from outcome
order by stratum_order, patient_key
