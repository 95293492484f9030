-- Each eligible patient's stratum: the first rule (in rule order) the patient matches, else the
-- default rule. stratum_start_date is when a later-therapy stratum began (null otherwise).
with first_match as (
    select patient_key, min(rule_order) as rule_order
    from strata_rule_matches
    group by patient_key
),

default_rule as (
    select rule_order from study_strata where is_default
)

select
    e.patient_key,
    e.index_date,
    r.stratum_key,
    r.stratum_label,
    r.rule_order as stratum_order,
    case when m.is_later_therapy then m.match_start_date end as stratum_start_date
from cohort_eligibility as e
left join first_match as f using (patient_key)
inner join study_strata as r
    on r.rule_order = coalesce(f.rule_order, (select rule_order from default_rule))
left join strata_rule_matches as m
    on m.patient_key = e.patient_key and m.rule_order = f.rule_order
where e.is_eligible
