-- Each eligible patient's stratum: the first rule (in rule order) the patient matches, else the
-- default rule. stratum_start_date is when a later-therapy stratum began (null otherwise).
-- A patient matches a rule at most once (a rule is later therapy or baseline, not both), so the
-- first match's other columns come from the row with the lowest rule_order.
with first_match as (
    select
        patient_key,
        min(rule_order) as rule_order,
        min_by(match_start_date, rule_order) as match_start_date,
        min_by(is_later_therapy, rule_order) as is_later_therapy
    from strata_rule_matches
    group by patient_key
),

default_rule as (
    select rule_order as default_rule_order from study_strata where is_default
)

select
    e.patient_key,
    e.index_date,
    r.stratum_key,
    r.stratum_label,
    r.rule_order as stratum_order,
    case when f.is_later_therapy then f.match_start_date end as stratum_start_date
from cohort_eligibility as e
left join first_match as f using (patient_key)
cross join default_rule as d
inner join study_strata as r
    on r.rule_order = coalesce(f.rule_order, d.default_rule_order)
where e.is_eligible
