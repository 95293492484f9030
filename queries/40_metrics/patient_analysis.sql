-- Each patient of the submissions in force: analysed (in which stratum) or not, and the first
-- reason that excluded them. toolkit compare keeps the earlier cutoff's copy (previous_analysis)
-- to say who left the analysis, who entered it and whose stratum changed.
-- materialized: view
select
    e.patient_key,
    p.site_id,
    p.patient_id,
    e.is_eligible as is_analysed,
    e.exclusion_reason,
    s.stratum_key,
    s.stratum_label,
    p.submission_id
from cohort_eligibility as e
inner join stg_patients as p on e.patient_key = p.patient_key
left join strata as s on e.patient_key = s.patient_key
