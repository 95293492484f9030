-- Counts per stratum with their denominators, for the results text and the safety table.
select
    s.stratum_key,
    s.stratum_label,
    s.rule_order as stratum_order,
    count(f.patient_key) as n_patients,
    count(f.patient_key) filter (where f.is_progressed_before_later_therapy)
        as n_progressed_before_later_therapy,
    count(f.patient_key) filter (where f.has_related_autoimmune_post_therapy)
        as n_related_autoimmune_post_therapy,
    count(f.patient_key) filter (where f.is_treatment_related_death) as n_treatment_related_deaths
from study_strata as s
left join patient_flags as f using (stratum_key)
group by s.stratum_key, s.stratum_label, s.rule_order
order by stratum_order
