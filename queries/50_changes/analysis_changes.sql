-- Patients whose place in the analysis changed between the previous cutoff and this one: those
-- who left it (with the reason), those who entered it, and those whose stratum changed, each
-- with the old and new value and the submissions they came from. Empty unless the runner was
-- given the previous cutoff's patient_analysis (previous_analysis: toolkit compare).
-- materialized: view
with paired as (
    select
        coalesce(c.site_id, p.site_id) as site_id,
        coalesce(c.patient_id, p.patient_id) as patient_id,
        coalesce(p.is_analysed, false) as was_analysed,
        coalesce(c.is_analysed, false) as is_analysed,
        p.stratum_key as old_stratum_key,
        c.stratum_key as new_stratum_key,
        p.stratum_label as old_stratum_label,
        c.stratum_label as new_stratum_label,
        case
            when p.patient_key is null then 'not in the site''s extract'
            else 'not analysed: ' || p.exclusion_reason
        end as old_exclusion_text,
        case
            when c.patient_key is null then 'not in the site''s extract'
            else 'not analysed: ' || c.exclusion_reason
        end as new_exclusion_text,
        p.submission_id as old_submission_id,
        c.submission_id as new_submission_id
    from patient_analysis as c
    full outer join previous_analysis as p on c.patient_key = p.patient_key
    where exists (select 1 from previous_analysis)
)

select site_id, patient_id, 'left_analysis' as change_kind, 'analysis' as field_name,
    old_stratum_label as old_value, new_exclusion_text as new_value, old_submission_id,
    new_submission_id
from paired where was_analysed and not is_analysed

union all

select site_id, patient_id, 'entered_analysis', 'analysis', old_exclusion_text,
    new_stratum_label, old_submission_id, new_submission_id
from paired where not was_analysed and is_analysed

union all

select site_id, patient_id, 'stratum_changed', 'stratum', old_stratum_label, new_stratum_label,
    old_submission_id, new_submission_id
from paired where was_analysed and is_analysed and old_stratum_key <> new_stratum_key
